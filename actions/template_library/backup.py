"""Backing up a directory and restoring it."""

from datetime import timedelta
from typing import Any

from actions.choices import Category, Risk
from actions.template_library.base import DAYS_PATTERN, IF_OK, PATH_PATTERN, param, sh, step

# A backup's file names start with the source path made safe: /srv/app/data -> srv_app_data.
BACKUP_NAMES = sh(
    """
    src=${src%/}
    label=$(printf '%s' "$src" | sed 's|^/||; s|[^A-Za-z0-9._-]|_|g')
    """
)
RESTORE_ARCHIVE = sh(
    """
    if [ "$choice" = latest ]; then archive="$dest/$label-latest.tar.gz"; else archive="$dest/$choice"; fi
    if [ ! -e "$archive" ]; then
      echo "There is no archive $archive." >&2
      exit 1
    fi
    archive=$(readlink -f -- "$archive")
    """
)

# --- Backup & restore --------------------------------------------------------------------------

BACKUP_CREATE = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    """,
    BACKUP_NAMES,
    """
    if [ -z "$src" ] || [ ! -d "$src" ]; then
      echo "There is no directory ${src:-/} to back up (not the whole root file system)." >&2
      exit 1
    fi
    umask 077
    mkdir -p -- "$dest" || exit 1
    archive="$dest/$label-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
    tar -czf "$archive.part" -C "$(dirname -- "$src")" "./$(basename -- "$src")"
    rc=$?
    if [ "$rc" -gt 1 ]; then
      rm -f -- "$archive.part"
      echo "tar failed (exit $rc): no backup was written." >&2
      exit 1
    fi
    if [ "$rc" -eq 1 ]; then
      echo "Some files changed while they were read; the archive holds them as they were then." >&2
    fi
    mv -- "$archive.part" "$archive" || exit 1
    ln -sfn -- "$(basename -- "$archive")" "$dest/$label-latest.tar.gz" || exit 1
    echo "Backup of $src written to $(hostname):$archive ($(du -h -- "$archive" | cut -f1))."
    """,
)
BACKUP_VERIFY = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    """,
    BACKUP_NAMES,
    """
    archive=$(readlink -f -- "$dest/$label-latest.tar.gz")
    if [ -z "$archive" ] || [ ! -f "$archive" ]; then
      echo "There is no backup of $src in $dest." >&2
      exit 1
    fi
    if ! entries=$(tar -tzf "$archive"); then
      echo "$archive cannot be read back: do not rely on it." >&2
      exit 1
    fi
    file=$(basename -- "$archive")
    (cd "$(dirname -- "$archive")" && sha256sum -- "$file" > "$file.sha256") || exit 1
    count=$(printf '%s\\n' "$entries" | wc -l)
    echo "$archive reads back: $count entries, $(du -h -- "$archive" | cut -f1)."
    echo "SHA-256: $(cut -d' ' -f1 < "$archive.sha256") (kept in $archive.sha256)"
    """,
)
BACKUP_PRUNE = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    keep={{ params.keep_days }}
    """,
    BACKUP_NAMES,
    """
    echo "Backups of $src older than $keep days:"
    find "$dest" -maxdepth 1 -type f \\( -name "$label-*.tar.gz" -o -name "$label-*.tar.gz.sha256" \\) \\
      -mtime +"$keep" -print -delete || exit 1
    echo "Backups of $src kept: $(find "$dest" -maxdepth 1 -type f -name "$label-*.tar.gz" | wc -l)."
    """,
)
RESTORE_CHECK = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    choice={{ params.archive }}
    """,
    BACKUP_NAMES,
    """
    if [ -z "$src" ]; then
      echo "Restoring the root file system is not supported." >&2
      exit 1
    fi
    """,
    RESTORE_ARCHIVE,
    """
    if [ -f "$archive.sha256" ]; then
      (cd "$(dirname -- "$archive")" && sha256sum -c -- "$(basename -- "$archive").sha256") || exit 1
    else
      echo "No checksum next to $archive: checking that it reads back."
    fi
    gzip -t -- "$archive" || exit 1
    base=$(basename -- "$src")
    if ! tar -tzf "$archive" | grep -Fxq -e "./$base/" -e "./$base"; then
      echo "$archive does not hold a directory named $base." >&2
      exit 1
    fi
    echo "Will restore $src from $archive, written $(date -u -r "$archive" '+%Y-%m-%d %H:%M UTC')."
    """,
)
RESTORE_SAVE = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    """,
    BACKUP_NAMES,
    """
    if [ ! -e "$src" ]; then
      echo "$src does not exist: there is nothing to save first."
      exit 0
    fi
    umask 077
    mkdir -p -- "$dest" || exit 1
    saved="$dest/$label-before-restore-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
    tar -czf "$saved" -C "$(dirname -- "$src")" "./$(basename -- "$src")"
    if [ "$?" -gt 1 ]; then
      rm -f -- "$saved"
      echo "Could not save the current $src: not restoring over it." >&2
      exit 1
    fi
    echo "The current $src is saved in $(hostname):$saved."
    """,
)
RESTORE_APPLY = sh(
    """
    src={{ params.source }}
    dest={{ params.backup_dir }}
    choice={{ params.archive }}
    """,
    BACKUP_NAMES,
    RESTORE_ARCHIVE,
    """
    parent=$(dirname -- "$src")
    base=$(basename -- "$src")
    mkdir -p -- "$parent" || exit 1
    new=$(mktemp -d "$parent/.mitigate-restore.XXXXXX") || exit 1
    old=$(mktemp -d "$parent/.mitigate-replaced.XXXXXX") || { rm -rf -- "$new"; exit 1; }
    if ! tar -xzf "$archive" -C "$new" || [ ! -d "$new/$base" ]; then
      rm -rf -- "$new" "$old"
      echo "Could not unpack $base from $archive: $src is untouched." >&2
      exit 1
    fi
    if [ -e "$src" ] && ! mv -- "$src" "$old/$base"; then
      rm -rf -- "$new" "$old"
      echo "Could not move the current $src aside (a mount point?): it is untouched." >&2
      exit 1
    fi
    if ! mv -- "$new/$base" "$src"; then
      if [ -e "$old/$base" ]; then mv -- "$old/$base" "$src"; fi
      rm -rf -- "$new" "$old"
      echo "Could not put the restored $base in place: the previous $src is back." >&2
      exit 1
    fi
    rm -rf -- "$new" "$old"
    echo "Restored $src from $archive."
    """,
)
RESTORE_VERIFY = sh(
    """
    src={{ params.source }}
    src=${src%/}
    if [ ! -d "$src" ]; then
      echo "$src is missing after the restore." >&2
      exit 1
    fi
    ls -la -- "$src" | head -n 25
    echo "$src: $(find "$src" | wc -l) entries, $(du -sh -- "$src" | cut -f1)."
    """
)

BACKUP_TEMPLATE: dict[str, Any] = {
    "key": "backup",
    "name": "Backup",
    "summary": "Archive a directory, verify the archive reads back, and prune old backups.",
    "description": (
        "Writes <backup dir>/<path>-<UTC time>.tar.gz (and a -latest link), reads it back and stores "
        "its SHA-256 next to it, then removes this directory's backups older than the retention. "
        "Needs read access to the directory and write access to the backup directory."
    ),
    "category": Category.BACKUP,
    "risk": Risk.LOW,
    "tags": ["backup", "data"],
    "estimated_duration": timedelta(minutes=5),
    "parameters": [
        param(
            "source",
            "The directory to back up, e.g. /etc or /srv/app/data.",
            required=True,
            pattern=PATH_PATTERN,
        ),
        param(
            "backup_dir",
            "Where the archives are kept on the host.",
            default="/var/backups/mitigate",
            pattern=PATH_PATTERN,
        ),
        param(
            "keep_days",
            "Remove this directory's backups older than this many days.",
            default="14",
            pattern=DAYS_PATTERN,
        ),
    ],
    "steps": [
        step("Create the archive", BACKUP_CREATE, timeout=1800),
        step("Verify the archive", BACKUP_VERIFY, timeout=600, condition=IF_OK),
        step("Remove old backups", BACKUP_PRUNE, timeout=120, condition=IF_OK),
    ],
}

RESTORE_TEMPLATE: dict[str, Any] = {
    "key": "restore",
    "name": "Restore from backup",
    "summary": "Replace a directory with a backup made by the Backup action, keeping a copy first.",
    "description": (
        "Checks the archive (checksum, readability, that it holds the directory), saves the current "
        "directory as <path>-before-restore-<time>.tar.gz, swaps the restored copy in (the current "
        "one is put back if that fails), then lists the result. Replaces data: high risk, so every "
        "run needs an approver. Stop the services using the directory first."
    ),
    "category": Category.BACKUP,
    "risk": Risk.HIGH,
    "tags": ["backup", "data", "recovery"],
    "estimated_duration": timedelta(minutes=10),
    "parameters": [
        param(
            "source",
            "The directory to restore, as it was given to Backup.",
            required=True,
            pattern=PATH_PATTERN,
        ),
        param(
            "backup_dir",
            "Where the archives are kept on the host.",
            default="/var/backups/mitigate",
            pattern=PATH_PATTERN,
        ),
        param(
            "archive",
            "The archive's file name in the backup directory, or 'latest'.",
            default="latest",
            pattern=r"^(latest|[A-Za-z0-9._-]+\.tar\.gz)$",
        ),
    ],
    "steps": [
        step("Check the archive", RESTORE_CHECK, timeout=600),
        step("Save the current data", RESTORE_SAVE, timeout=1800, condition=IF_OK),
        step("Restore", RESTORE_APPLY, timeout=1800, condition=IF_OK),
        step("Verify the restored data", RESTORE_VERIFY, timeout=120, condition=IF_OK),
    ],
}
