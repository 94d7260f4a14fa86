"""The command lines sent to the host: the wrapper that reports the pid, and the kills."""

import shlex

PID_MARKER = b"__mitigate_pid="

# Fields of /proc/<pid>/stat after "<pid> (<comm>) ": $1 is the state, ${20} the start time.
STAT_FIELDS = "$(sed 's/.*) //' /proc/$$/stat 2>/dev/null)"
# The shell's own start time into $s ("" without /proc) with builtins only: every command pays for
# this, and a fork and exec of sed cost more than the rest of the wrapper on a busy host. Fields are
# taken off one by one, as zsh does not split $s into words; `\)` keeps zsh from reading a group.
OWN_START = (
    "{ read -r s </proc/$$/stat; } 2>/dev/null; s=${s##*\\) }; "
    "i=0; while [ $i -lt 19 ]; do s=${s#* }; i=$((i+1)); done; s=${s%% *}"
)


def wrap_command(command: str, timeout: int, *, use_sudo: bool) -> str:
    """The command line sent to the host (see the docstring of actions.runners.ssh)."""
    seconds = max(1, int(timeout))
    inner = (
        f'{OWN_START}; echo "{PID_MARKER.decode()}$$:$s" >&2; '
        f"exec timeout -s KILL {seconds} sh -c {shlex.quote(command)}"
    )
    if use_sudo:
        # The pid must be the one inside sudo: sudo may start the command in its own session.
        return f"exec sudo -n sh -c {shlex.quote(inner)}"
    return inner


def kill_command(pid: int, *, use_sudo: bool) -> str:
    # `-s KILL --` is the spelling dash, bash and procps kill all accept for a process group.
    command = f"kill -s KILL -- -{int(pid)}"
    return f"sudo -n {command}" if use_sudo else command


def group_kill_command(pid: int, start: int, *, use_sudo: bool) -> str:
    """Kill group `pid` only while its leader is the process that started at `start`; prints
    "killed" or "exited"."""
    pid, start = int(pid), int(start)
    stat = STAT_FIELDS.replace("$$", str(pid))
    return (
        f'set -- {stat}; if [ "$1" != Z ] && [ "${{20:-}}" = {start} ]; '
        f"then {kill_command(pid, use_sudo=use_sudo)} && echo killed; else echo exited; fi"
    )
