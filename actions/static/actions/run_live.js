/* The run page refreshes itself while the run is under way: every few seconds it fetches the page
   again and swaps in the new content, keeping open "Command" boxes open and output boxes scrolled
   where the reader left them (or following the end, if that is where they were). It stops once the
   run is finished. Without JavaScript, a <noscript> meta refresh does the same, less smoothly. */
(function () {
    "use strict";

    function toolbar(root) {
        return root.querySelector("#run-toolbar");
    }

    function isLive(root) {
        var bar = toolbar(root);
        return bar !== null && bar.getAttribute("data-run-live") === "1";
    }

    function remember(root) {
        var state = {};
        root.querySelectorAll("[data-keep]").forEach(function (el) {
            state[el.getAttribute("data-keep")] = {
                open: el.tagName === "DETAILS" ? el.open : null,
                atEnd: el.scrollHeight - el.scrollTop - el.clientHeight < 8,
                scrollTop: el.scrollTop
            };
        });
        return state;
    }

    function restore(root, state) {
        root.querySelectorAll("[data-keep]").forEach(function (el) {
            var was = state[el.getAttribute("data-keep")];
            if (!was) {
                return;
            }
            if (was.open !== null) {
                el.open = was.open;
            }
            el.scrollTop = was.atEnd ? el.scrollHeight : was.scrollTop;
        });
    }

    function refresh(seconds) {
        var selection = window.getSelection ? String(window.getSelection()) : "";
        if (selection) {
            // Someone is copying output: do not pull the text from under them.
            window.setTimeout(function () { refresh(seconds); }, seconds * 1000);
            return;
        }
        window.fetch(window.location.href, {credentials: "same-origin", cache: "no-store"})
            .then(function (response) {
                if (!response.ok) {
                    throw new Error("HTTP " + response.status);
                }
                return response.text();
            })
            .then(function (html) {
                var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content-main");
                var current = document.getElementById("content-main");
                if (!fresh || !current) {
                    return;
                }
                var state = remember(current);
                current.innerHTML = fresh.innerHTML;
                restore(current, state);
                if (isLive(current)) {
                    window.setTimeout(function () { refresh(seconds); }, seconds * 1000);
                }
            })
            .catch(function () {
                // The server may be restarting: try again a little later.
                window.setTimeout(function () { refresh(seconds); }, seconds * 3000);
            });
    }

    function start() {
        var bar = toolbar(document);
        if (!bar || !isLive(document) || !window.fetch || !window.DOMParser) {
            return;
        }
        var seconds = parseFloat(bar.getAttribute("data-refresh-seconds")) || 2;
        // Start each output box at its end, where new lines arrive.
        document.querySelectorAll("pre.run-output").forEach(function (el) {
            el.scrollTop = el.scrollHeight;
        });
        window.setTimeout(function () { refresh(seconds); }, seconds * 1000);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
