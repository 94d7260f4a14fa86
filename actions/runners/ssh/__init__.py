"""Commands on a host over SSH (paramiko), on one connection per runner.

The host must prove it holds the pinned key; nothing else is trusted (no known_hosts, no agent,
no keys from ~/.ssh). Each command runs as

    echo "__mitigate_pid=$$:<start>" >&2; exec timeout -s KILL <t> sh -c '<command>'

(inside `exec sudo -n sh -c '...'` when the provider uses sudo), so the command always runs under
sh, as it does on the local runner. GNU timeout leads its own process group and kills the whole
group when the time is up; the pid printed first (and taken off stderr) lets a cancel, or our own
deadline when the host's `timeout` did not fire, kill that group from a second channel on the same
connection. The pid and its start time (clock ticks since boot, from /proc) go to the sink too: if
the worker dies, abandoning the run kills the group over a new connection, but only while its leader
is still the process that printed them. The remote user's login shell must be POSIX (sh, bash,
dash, zsh); the host needs GNU `timeout`.

The parts: `commands` (the command lines sent), `connection` (sockets, handshakes, keys),
`channel` (one command's output and pid marker), `runner` (SSHRunner, which drives them).
"""

from actions.runners.ssh.connection import host_key_fetch, load_private_key
from actions.runners.ssh.runner import SSHRunner

__all__ = ["SSHRunner", "host_key_fetch", "load_private_key"]
