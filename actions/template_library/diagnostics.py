"""Looking at a host: collecting its logs and checking its health."""

from datetime import timedelta
from typing import Any

from actions.choices import Category, Risk
from actions.template_library.base import (
    IF_OK,
    MEMORY_USED,
    PATH_PATTERN,
    PERCENT_PATTERN,
    URL,
    param,
    sh,
    step,
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

LOG_COLLECTION_TEMPLATE: dict[str, Any] = {
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
}

HEALTH_CHECK_TEMPLATE: dict[str, Any] = {
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
}
