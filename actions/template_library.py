"""The action templates Mitigate ships: the runbook's common procedures as ready-made actions.

Plain data. `action_create_from_template` (actions.services.templates) clones one into a real
action through action_save, so a template passes exactly the checks a hand-written action does,
with every step pointed at the provider or group the user picks.

How the commands are written:
- POSIX sh (the local runner uses /bin/sh, SSH hosts their login shell's `sh -c`); Debian tools
  first, with a fallback where a minimal host may lack one (curl, ss, free).
- A placeholder is only ever used as the whole right-hand side of an assignment at the top,
  `service={{ params.service }}`, then as "$service": the templating quotes every value, and a
  quoted value never ends up inside another pair of quotes.
- No sudo inside commands: turn on "use sudo" on the provider (or connect as root) for the steps
  that need root. Each step says what it needs.
- The exit status is the verdict: 0 passes, anything else fails the step (and may be retried).
- Steps share nothing but the host: a later step finds what an earlier one made by a fixed name.
- Optional parameters always have a default: a parameter without a value cannot be substituted.
"""

from dataclasses import dataclass
from datetime import timedelta
from textwrap import dedent
from typing import Any

from actions.choices import Category, Risk, StepCondition, TargetKind

ALWAYS = StepCondition.ALWAYS
IF_OK = StepCondition.PREVIOUS_SUCCESS
IF_FAILED = StepCondition.PREVIOUS_FAILURE

SERVICE_PATTERN = r"^[A-Za-z0-9@_][A-Za-z0-9@._-]*$"
# An allow-list, not "anything without spaces": the value may come from an alert's labels.
URL = r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+-]*)?(\?[A-Za-z0-9._~%=&+-]*)?"
URL_PATTERN = rf"^{URL}$"
PATH_PATTERN = r"^/[^\s]*$"
PERCENT_PATTERN = r"^([1-9][0-9]?|100)$"
DAYS_PATTERN = r"^[0-9]{1,4}$"


def sh(*parts: str) -> str:
    """A command from pieces, each dedented on its own."""
    return "\n".join(dedent(part).strip("\n").rstrip() for part in parts) + "\n"


def param(
    name: str, description: str, *, default: str = "", required: bool = False, pattern: str = ""
) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": name, "description": description, "required": required}
    if default:
        declaration["default"] = default
    if pattern:
        declaration["pattern"] = pattern
    return declaration


def step(
    name: str,
    command: str,
    *,
    timeout: int,
    condition: str = ALWAYS,
    retries: int = 0,
    retry_delay: int = 5,
    target: str = TargetKind.PROVIDER,
    target_parameter: str = "",
) -> dict[str, Any]:
    """`target` "provider" means the provider or group chosen when the template is used;
    "trigger" keeps the step on the host named by `target_parameter`."""
    return {
        "name": name,
        "command": command,
        "timeout_seconds": timeout,
        "retries": retries,
        "retry_delay_seconds": retry_delay,
        "condition": condition,
        "target": target,
        "target_parameter": target_parameter,
    }


# Reused fragments. Memory in use is MemTotal - MemAvailable, as `free` computes "used".
MEMORY_USED = (
    "used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } "
    'END { if (t > 0) printf "%d", (t - a) * 100 / t; else print 0 }\' /proc/meminfo)'
)
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


# --- Service restart ---------------------------------------------------------------------------

SERVICE_CHECK = sh(
    """
    service={{ params.service }}
    systemctl status --no-pager --full --lines=20 -- "$service"
    rc=$?
    case $rc in
      0|1|2|3) echo "Unit $service is $(systemctl is-active -- "$service" 2>/dev/null)." ;;
      4) echo "There is no unit named $service on $(hostname)." >&2; exit 4 ;;
      *) exit "$rc" ;;
    esac
    """
)
SERVICE_RESTART = sh(
    """
    service={{ params.service }}
    systemctl restart -- "$service" || exit 1
    sleep 2
    if systemctl is-active --quiet -- "$service"; then
      echo "Restarted $service: it is active."
    else
      echo "$service did not stay up after the restart:" >&2
      systemctl status --no-pager --full --lines=20 -- "$service" >&2
      exit 1
    fi
    """
)
SERVICE_VERIFY = sh(
    """
    url={{ params.health_url }}
    curl -fsSI --max-time 10 "$url"
    """
)

# --- Disk cleanup ------------------------------------------------------------------------------

DISK_BEFORE = sh(
    """
    path={{ params.path }}
    df -hP -- "$path" || exit 1
    echo
    echo "Largest directories under $path:"
    du -xh -d 1 -- "$path" 2>/dev/null | sort -rh | head -n 15
    """
)
DISK_LOGS = sh(
    """
    days={{ params.days }}
    if command -v journalctl >/dev/null 2>&1; then
      journalctl --vacuum-time="${days}d" 2>&1 || echo "The journal could not be vacuumed (it needs root)."
    fi
    echo "Rotated logs under /var/log older than $days days (current logs are never touched):"
    find /var/log -xdev -type f \\( -name '*.gz' -o -name '*.xz' -o -name '*.bz2' -o -name '*.zst' \\
      -o -name '*.[0-9]' -o -name '*.old' \\) -mtime +"$days" -print -delete
    """
)
DISK_TEMP = sh(
    """
    days={{ params.days }}
    echo "Files in /tmp and /var/tmp neither read nor changed for more than $days days:"
    find /tmp /var/tmp -xdev -mindepth 1 -type f -atime +"$days" -mtime +"$days" -print -delete
    rc=$?
    if command -v apt-get >/dev/null 2>&1; then
      apt-get clean && echo "APT's package cache is cleaned."
    fi
    exit "$rc"
    """
)
DISK_AFTER = sh(
    """
    path={{ params.path }}
    df -hP -- "$path"
    """
)

# --- Log collection ----------------------------------------------------------------------------

LOGS_GATHER = sh(
    """
    log_dir={{ params.log_dir }}
    hours={{ params.hours }}
    out_dir={{ params.out_dir }}
    if [ ! -d "$log_dir" ]; then
      echo "There is no directory $log_dir." >&2
      exit 1
    fi
    host=$(hostname)
    name="logs-$host-$(date -u +%Y%m%dT%H%M%SZ)"
    umask 077
    mkdir -p -- "$out_dir" || exit 1
    work=$(mktemp -d "$out_dir/.collect.XXXXXX") || exit 1
    trap 'rm -rf -- "$work"' EXIT
    mkdir -- "$work/$name" || exit 1
    {
      echo "Host: $host"
      echo "Collected: $(date -u '+%Y-%m-%d %H:%M:%S UTC') by $(id -un), last $hours h of $log_dir"
      uname -a
      uptime 2>/dev/null
      df -hP 2>/dev/null
    } > "$work/$name/summary.txt"
    find "$log_dir" -xdev -type f -mmin -"$((hours * 60))" -readable -print 2>/dev/null > "$work/files.txt"
    unreadable=$(find "$log_dir" -xdev -type f -mmin -"$((hours * 60))" ! -readable 2>/dev/null | wc -l)
    if command -v journalctl >/dev/null 2>&1; then
      journalctl --since="-${hours}h" --no-pager -o short-iso -n 200000 > "$work/$name/journal.txt" 2>&1
    fi
    if ! dmesg > "$work/$name/dmesg.txt" 2>&1; then
      echo "(dmesg is restricted for $(id -un))" >> "$work/$name/dmesg.txt"
    fi
    archive="$out_dir/$name.tar.gz"
    tar -czf "$archive" -C "$work" "$name" -T "$work/files.txt" 2> "$work/tar.err"
    rc=$?
    grep -v 'Removing leading' "$work/tar.err" >&2
    if [ "$rc" -gt 1 ]; then
      rm -f -- "$archive"
      echo "tar failed (exit $rc)." >&2
      exit "$rc"
    fi
    echo "Collected $(wc -l < "$work/files.txt") log file(s) changed in the last $hours h under $log_dir."
    if [ "$unreadable" -gt 0 ]; then
      echo "Left out $unreadable file(s) $(id -un) cannot read (turn on sudo for the provider for those)."
    fi
    echo "Archive: $host:$archive ($(du -h -- "$archive" | cut -f1))"
    """
)
LOGS_LIST = sh(
    """
    out_dir={{ params.out_dir }}
    archive=$(ls -1t -- "$out_dir"/logs-*.tar.gz 2>/dev/null | head -n 1)
    if [ -z "$archive" ]; then
      echo "There is no log archive in $out_dir." >&2
      exit 1
    fi
    if ! contents=$(tar -tzvf "$archive"); then
      echo "$archive is not a readable archive." >&2
      exit 1
    fi
    printf '%s\\n' "$contents" | head -n 40
    echo "Files: $(printf '%s\\n' "$contents" | wc -l), SHA-256: $(sha256sum -- "$archive" | cut -d' ' -f1)"
    echo "Archive: $(hostname):$archive"
    """
)

# --- Health check ------------------------------------------------------------------------------

HEALTH_LOAD = sh(
    """
    max_load={{ params.max_load }}
    up=$(awk '{ s = int($1); printf "%dd %dh %dm", s / 86400, s % 86400 / 3600, s % 3600 / 60 }' /proc/uptime)
    echo "Host: $(hostname), up $up."
    cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1)
    read -r load1 load5 load15 rest < /proc/loadavg
    echo "CPUs: $cpus. Load average: $load1 (1 min), $load5 (5 min), $load15 (15 min)."
    if awk -v l="$load1" -v c="$cpus" -v m="$max_load" 'BEGIN { exit !(l > c * m) }'; then
      echo "The load is above $max_load per CPU." >&2
      exit 1
    fi
    echo "Load OK (limit: $max_load per CPU)."
    """
)
HEALTH_DISK = sh(
    """
    max={{ params.max_disk_percent }}
    df -hP -x tmpfs -x devtmpfs -x squashfs 2>/dev/null
    full=$(df -P -x tmpfs -x devtmpfs -x squashfs 2>/dev/null |
      awk -v max="$max" 'NR > 1 { use = $5; sub(/%/, "", use)
        if (use + 0 > max + 0) print "  " $6 ": " $5 " used" }')
    if [ -n "$full" ]; then
      echo "Above $max% used:" >&2
      echo "$full" >&2
      exit 1
    fi
    echo "Every file system is at or below $max% used."
    """
)
HEALTH_MEMORY = sh(
    """
    max={{ params.max_memory_percent }}
    if command -v free >/dev/null 2>&1; then free -h; fi
    """,
    MEMORY_USED,
    """
    echo "Memory in use: $used% (limit: $max%)."
    if command -v ps >/dev/null 2>&1; then
      echo "Largest processes:"
      ps -eo pid,user,%mem,rss,comm --sort=-rss 2>/dev/null | head -n 6
    fi
    if [ "$used" -gt "$max" ]; then
      echo "Memory use is above $max%." >&2
      exit 1
    fi
    """,
)
HEALTH_ENDPOINT = sh(
    """
    endpoint={{ params.endpoint }}
    case $endpoint in
      http://*|https://*)
        if command -v curl >/dev/null 2>&1; then
          code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$endpoint") || exit 1
          echo "HTTP $code from $endpoint"
          case $code in 2??|3??) ;; *) echo "Expected a 2xx or 3xx answer." >&2; exit 1 ;; esac
        elif command -v wget >/dev/null 2>&1; then
          wget -q -O /dev/null -T 10 "$endpoint" || { echo "No good answer from $endpoint." >&2; exit 1; }
          echo "$endpoint answers."
        elif command -v python3 >/dev/null 2>&1; then
          python3 - "$endpoint" <<'EOF' || exit 1
    import sys
    import urllib.request

    try:
        with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
            print("HTTP", response.status, "from", sys.argv[1])
    except Exception as exc:
        sys.exit(f"No good answer from {sys.argv[1]}: {exc}")
    EOF
        else
          echo "Neither curl, wget nor python3 is installed: cannot check $endpoint." >&2
          exit 1
        fi
        ;;
      *)
        port=$endpoint
        if command -v ss >/dev/null 2>&1; then
          listening=$(ss -ltn "sport = :$port" 2>/dev/null | awk 'NR > 1')
        else
          hex=$(printf '%04X' "$port")
          listening=$(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \\
            /proc/net/tcp /proc/net/tcp6 2>/dev/null)
        fi
        if [ -z "$listening" ]; then
          echo "Nothing listens on TCP port $port on $(hostname)." >&2
          exit 1
        fi
        echo "TCP port $port is listening:"
        echo "$listening"
        ;;
    esac
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

# --- Memory cleanup ----------------------------------------------------------------------------

MEMORY_CHECK = sh(
    """
    free -m 2>/dev/null || grep -E '^(MemTotal|MemFree|MemAvailable|Cached|SwapTotal|SwapFree):' /proc/meminfo
    echo
    ps aux --sort=-%mem 2>/dev/null | head -n 11
    """
)
MEMORY_DROP_CACHES = sh(
    """
    threshold={{ params.threshold }}
    sync
    if echo 1 2>/dev/null > /proc/sys/vm/drop_caches; then
      echo "Page cache dropped."
    else
      echo "Could not drop the page cache: that needs root (turn on sudo for the provider)." >&2
    fi
    """,
    MEMORY_USED,
    """
    echo "Memory in use: $used% (threshold: $threshold%)."
    if [ "$used" -ge "$threshold" ]; then
      echo "Still at or above $threshold%: the next step restarts the service." >&2
      exit 1
    fi
    echo "Below $threshold%: no restart needed."
    """,
)
MEMORY_RESTART = sh(
    """
    service={{ params.service }}
    systemctl restart -- "$service" || exit 1
    sleep 5
    if ! systemctl is-active --quiet -- "$service"; then
      systemctl status --no-pager --full --lines=20 -- "$service" >&2
      exit 1
    fi
    echo "Restarted $service."
    """
)
MEMORY_VERIFY = sh(
    """
    threshold={{ params.threshold }}
    free -m 2>/dev/null || grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
    """,
    MEMORY_USED,
    """
    echo "Memory in use: $used%."
    if [ "$used" -ge "$threshold" ]; then
      echo "Memory is still at or above $threshold%." >&2
      exit 1
    fi
    """,
)


TEMPLATES: list[dict[str, Any]] = [
    {
        "key": "service-restart",
        "name": "Service restart",
        "summary": "Restart a failed systemd service with status checks before and after.",
        "description": (
            "Checks that the unit exists (a failed or stopped unit is fine: that is what the restart "
            "is for), restarts it with up to two retries, then checks that the service answers on its "
            "health URL. Needs root for the restart: turn on sudo for the provider. The check needs curl."
        ),
        "category": Category.RESTART,
        "risk": Risk.LOW,
        "tags": ["service", "systemd"],
        "estimated_duration": timedelta(seconds=45),
        "parameters": [
            param(
                "service",
                "The systemd unit to restart, e.g. nginx or php8.2-fpm.service.",
                required=True,
                pattern=SERVICE_PATTERN,
            ),
            param(
                "health_url",
                "A URL that must answer (2xx or 3xx) once the service is back.",
                default="http://localhost/",
                pattern=URL_PATTERN,
            ),
        ],
        "steps": [
            step("Check the unit", SERVICE_CHECK, timeout=15),
            step(
                "Restart the service", SERVICE_RESTART, timeout=90, retries=2, retry_delay=5, condition=IF_OK
            ),
            step("Verify it answers", SERVICE_VERIFY, timeout=15, retries=3, retry_delay=5, condition=IF_OK),
        ],
    },
    {
        "key": "disk-cleanup",
        "name": "Disk cleanup",
        "summary": "Free disk space: vacuum the journal, remove old rotated logs and old temporary files.",
        "description": (
            "Shows the usage and the largest directories, vacuums the systemd journal and removes rotated "
            "logs (*.gz, *.1, *.old, ...) under /var/log and files in /tmp and /var/tmp older than the "
            "given number of days, cleans APT's package cache, then shows the usage again. Current logs, "
            "Docker images and volumes are never touched. Needs root: turn on sudo for the provider."
        ),
        "category": Category.CLEANUP,
        "risk": Risk.LOW,
        "tags": ["maintenance", "storage"],
        "estimated_duration": timedelta(minutes=2),
        "parameters": [
            param("path", "The file system to report on.", default="/var", pattern=PATH_PATTERN),
            param(
                "days",
                "Remove rotated logs and temporary files older than this many days.",
                default="7",
                pattern=DAYS_PATTERN,
            ),
        ],
        "steps": [
            step("Disk usage before", DISK_BEFORE, timeout=120),
            step("Vacuum the journal and old rotated logs", DISK_LOGS, timeout=300),
            step("Remove old temporary files", DISK_TEMP, timeout=300),
            step("Disk usage after", DISK_AFTER, timeout=30),
        ],
    },
    {
        "key": "log-collection",
        "name": "Log collection",
        "summary": "Gather the recent logs, journal and kernel messages into one compressed archive.",
        "description": (
            "Copies the log files changed in the last hours, the journal for the same period, the kernel "
            "messages and a short system summary into a .tar.gz archive on the host, and prints where it "
            "is. Runs without root; files the user cannot read are counted and left out (turn on sudo "
            "for the provider to include them)."
        ),
        "category": Category.DIAGNOSTICS,
        "risk": Risk.LOW,
        "tags": ["diagnostics", "troubleshooting"],
        "estimated_duration": timedelta(minutes=1),
        "parameters": [
            param("log_dir", "The directory to collect logs from.", default="/var/log", pattern=PATH_PATTERN),
            param(
                "hours",
                "Collect what changed in the last this many hours.",
                default="24",
                pattern=r"^[0-9]{1,4}$",
            ),
            param(
                "out_dir",
                "Where the archive is written on the host.",
                default="/tmp/mitigate-logs",
                pattern=PATH_PATTERN,
            ),
        ],
        "steps": [
            step("Gather and compress the logs", LOGS_GATHER, timeout=300),
            step("Check the archive", LOGS_LIST, timeout=60, condition=IF_OK),
        ],
    },
    {
        "key": "health-check",
        "name": "Health check",
        "summary": "Uptime and load, disk space, memory, and a listening port or a URL.",
        "description": (
            "Four read-only checks, each failing when its limit is exceeded: the load average per CPU, "
            "the use of every file system, memory in use (with the largest processes), and a TCP port "
            "that must be listening or a URL that must answer. Needs no root and no extra packages on a "
            "plain Debian host."
        ),
        "category": Category.HEALTH,
        "risk": Risk.LOW,
        "tags": ["diagnostics", "monitoring"],
        "estimated_duration": timedelta(seconds=20),
        "parameters": [
            param(
                "max_load",
                "Highest acceptable 1-minute load average per CPU.",
                default="2",
                pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$",
            ),
            param(
                "max_disk_percent",
                "Highest acceptable use of any file system, in percent.",
                default="90",
                pattern=PERCENT_PATTERN,
            ),
            param(
                "max_memory_percent",
                "Highest acceptable memory in use, in percent.",
                default="90",
                pattern=PERCENT_PATTERN,
            ),
            param(
                "endpoint",
                "A TCP port that must be listening on the host (e.g. 22 or 5432), or a URL that must "
                "answer with 2xx or 3xx (e.g. http://127.0.0.1:8080/health).",
                default="22",
                pattern=rf"^([0-9]{{1,5}}|{URL})$",
            ),
        ],
        "steps": [
            step("Uptime and load", HEALTH_LOAD, timeout=15),
            step("Disk space", HEALTH_DISK, timeout=30),
            step("Memory", HEALTH_MEMORY, timeout=15),
            step("Port or URL", HEALTH_ENDPOINT, timeout=20, retries=2, retry_delay=3),
        ],
    },
    {
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
    },
    {
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
    },
    {
        "key": "memory-cleanup",
        "name": "Memory cleanup",
        "summary": "Relieve memory pressure: drop the page cache, restart a service only if still needed.",
        "description": (
            "The runbook's four steps: show memory and the largest processes; drop the page cache and "
            "fail if memory in use is still at or above the threshold; only then restart the "
            "memory-intensive service; and verify memory is below the threshold. Dropping the cache and "
            "restarting need root: turn on sudo for the provider."
        ),
        "category": Category.CLEANUP,
        "risk": Risk.LOW,
        "tags": ["memory", "service"],
        "estimated_duration": timedelta(seconds=45),
        "parameters": [
            param(
                "service",
                "The memory-intensive systemd unit to restart when dropping the cache is not enough.",
                required=True,
                pattern=SERVICE_PATTERN,
            ),
            param(
                "threshold",
                "Restart the service if memory in use is still at or above this percentage.",
                default="90",
                pattern=PERCENT_PATTERN,
            ),
        ],
        "steps": [
            step("Check memory usage", MEMORY_CHECK, timeout=15),
            step("Clear the page cache", MEMORY_DROP_CACHES, timeout=60),
            step(
                "Restart the memory-intensive service",
                MEMORY_RESTART,
                timeout=120,
                retries=1,
                condition=IF_FAILED,
            ),
            step("Verify memory", MEMORY_VERIFY, timeout=15),
        ],
    },
]


@dataclass(frozen=True)
class Template:
    """One shipped template, read from TEMPLATES."""

    key: str
    name: str
    summary: str
    description: str
    category: str
    risk: str
    tags: list[str]
    estimated_duration: timedelta
    parameters: list[dict[str, Any]]
    steps: list[dict[str, Any]]

    @property
    def category_label(self) -> str:
        return Category(self.category).label

    @property
    def risk_label(self) -> str:
        return Risk(self.risk).label


def template_list() -> list[Template]:
    return [Template(**spec) for spec in TEMPLATES]


def template_get(key: str) -> Template | None:
    return next((t for t in template_list() if t.key == key), None)
