// Forms that ask before they act: <form data-confirm="Question?">. The Content-Security-Policy
// blocks inline handlers such as onsubmit="return confirm(...)", so the admin pages use this.
document.addEventListener(
  "submit",
  (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  },
  true,
);
