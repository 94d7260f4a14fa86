"""The folder where each web process writes its counters (prometheus_client's multiprocess mode).
No Django models here: gunicorn's master imports it before the app is loaded."""

import os
import shutil
from pathlib import Path


def multiproc_dir() -> Path:
    """Set by config.settings (under VAR_DIR) unless the environment names one."""
    return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def multiproc_dir_reset() -> Path:
    """Empty the folder at the start of a web server (gunicorn.conf.py's on_starting, `make run`),
    before any process writes to it: files of an earlier run would be added to this one's."""
    folder = multiproc_dir()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
