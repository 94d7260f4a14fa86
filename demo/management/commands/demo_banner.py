"""The Procfile's `banner` process: once `make run`'s web server answers and its worker is ready,
print the demo banner seed_demo filed, so the logins are the last thing on the console; then stay
up, recording where the web server answers for commands run from another terminal, until honcho
stops everything (honcho ends every process as soon as one of them ends)."""

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from config.celery import WORKER_READY_FILE
from demo.banner import banner_path, banner_read
from demo.seed.oncall import oncall_now_line
from incidents.management.web_url import local_web_url, running_web_url_clear, running_web_url_record

POLL_SECONDS = 0.25
STARTED_SLACK_SECONDS = 2


def worker_ready_since(moment: float) -> bool:
    """True when a Celery worker has said it is ready (config/celery.py) since `moment`."""
    try:
        return (Path(settings.VAR_DIR) / WORKER_READY_FILE).stat().st_mtime >= moment
    except OSError:
        return False


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when the web server answers /healthz (which touches neither database nor cache)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # Loopback: never a proxy.
    try:
        with opener.open(f"{url}/healthz", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


class Command(BaseCommand):
    help = (
        "For `make run`: print the demo banner once the web server answers and the worker is ready, "
        "then wait to be stopped, keeping the web server's address for send_test_alert."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=120.0,
            metavar="SECONDS",
            help="Print the banner anyway after waiting this long (default 120).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = local_web_url()
        # honcho starts the worker with this process: a mark older than now is a previous run's.
        started = time.time() - STARTED_SLACK_SECONDS
        deadline = time.monotonic() + options["timeout"]
        web = worker = False
        while not (web and worker):
            web = web or answers(url)
            worker = worker or worker_ready_since(started)
            if time.monotonic() >= deadline:
                waiting = " and ".join(
                    what for what, done in ((f"{url}", web), ("the worker", worker)) if not done
                )
                self.stderr.write(f"Still waiting for {waiting} after {options['timeout']:g} s.")
                break
            time.sleep(POLL_SECONDS)
        if web:
            running_web_url_record(url)
        banner = banner_read()
        self.stdout.write(banner if banner else f"No demo banner in {banner_path()}: run seed_demo.")
        # Worked out now, not when seed_demo filed the banner: the rotation moves on.
        self.stdout.write(oncall_now_line())
        self.stdout.flush()
        # honcho stops processes with SIGTERM: leave through the finally, as Ctrl-C does.
        signal.signal(signal.SIGTERM, _exit)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass
        finally:
            running_web_url_clear()
