"""A local receiver for Mitigate's signed webhook posts, for the demo (`make run` starts it as the
Procfile's `receiver` process) and for trying a webhook channel by hand:

    manage.py notification_receiver [--port N] [--secret-file PATH]

It binds 127.0.0.1 on --port, else $PORT (honcho's), else the web server's port + 400. The signing
secret comes from $MITIGATE_RECEIVER_SECRET, else from the file seed_demo writes
(VAR_DIR/demo-webhook-secret), read again on every request. Verified messages are printed to
stdout; anything else is answered 401 and logged with the reason on stderr."""

import os
import signal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.management.receiver import DemoReceiver, receiver_port, secret_source


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


class Command(BaseCommand):
    help = "Receive Mitigate's signed webhook posts on 127.0.0.1, verify them and print each message."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, help="Port on 127.0.0.1 (default: $PORT, else the web server's + 400)."
        )
        parser.add_argument(
            "--secret-file",
            type=Path,
            help="File holding the signing secret (default VAR_DIR/demo-webhook-secret); "
            "$MITIGATE_RECEIVER_SECRET wins when set.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if port is None:
            port = int(os.environ["PORT"]) if os.environ.get("PORT", "").isdigit() else receiver_port()
        secret, described = secret_source(options["secret_file"])

        def show(text: str) -> None:
            self.stdout.write(text)
            self.stdout.flush()  # honcho reads a pipe: print each message as it comes.

        def warn(text: str) -> None:
            self.stderr.write(text)
            self.stderr.flush()

        try:
            receiver = DemoReceiver(port=port, secret=secret, show=show, warn=warn)
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.") from None
        show(f"Webhook receiver on {receiver.url}; signing secret from {described}.")
        if not secret():
            warn(f"No signing secret in {described} yet: every post is refused until seed_demo writes it.")
        # honcho stops its processes with SIGTERM: leave through the finally, as Ctrl-C does.
        signal.signal(signal.SIGTERM, _exit)
        try:
            receiver.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            receiver.server.server_close()
