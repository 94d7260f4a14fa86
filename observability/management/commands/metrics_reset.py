from django.core.management.base import BaseCommand

from observability.multiproc import multiproc_dir_reset


class Command(BaseCommand):
    help = (
        "Empty PROMETHEUS_MULTIPROC_DIR before the web server starts (`make run` does; gunicorn.conf.py "
        "does it for gunicorn). Never while web processes run: their counters would be lost."
    )

    def handle(self, *args, **options) -> None:
        folder = multiproc_dir_reset()
        self.stdout.write(f"Emptied {folder}")
