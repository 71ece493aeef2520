"""The first process inside a sandbox: it runs the agent only while the harness lives.

    python guard.py FD -- AGENT_ARGV...

FD is the read end of a pipe whose write end only the harness holds, and never writes to. The
harness's death closes it, so a read returns end-of-file: the guard then kills every process of
the sandbox's PID namespace and exits, and the sandbox's init, left without children, exits too.
End-of-file is a state, not an event, so there is no window: a harness killed before the guard
even started is noticed on the first read, and the agent never runs. (bubblewrap's
die-with-parent leaves one: it is armed only once the sandbox is set up.)

Otherwise the guard waits for the agent and ends as it did: with its exit code, or killed by
the same signal, so that the harness sees the agent's own end. SIGTERM and SIGINT are the
agent's to handle (the harness sends them to every process of the run when the time is up); the
guard shrugs them off, so that the agent keeps its grace period.

Only the standard library, and nothing of mlepipe: it is run by path, with `python -I`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading


def _exit_when_harness_is_gone(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    try:
        # The sandbox's first process (or its init's child) in a PID namespace of its own: on a
        # host, PIDs 1 and 2 belong to init and the kernel, never to a guard.
        if os.getpid() <= 2:
            # Every other process of the namespace (its init excepted); none outside it.
            os.kill(-1, signal.SIGKILL)
    except OSError:  # nothing else to kill yet
        pass
    finally:
        os._exit(137)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: guard.py FD -- COMMAND...", file=sys.stderr)
        return 2
    fd = int(argv[0])
    os.set_inheritable(fd, False)  # the agent gets no handle on the harness's pipe
    for sig in (signal.SIGTERM, signal.SIGINT):
        # A handler, not SIG_IGN: an ignored signal would stay ignored in the agent.
        signal.signal(sig, lambda signum, frame: None)
    threading.Thread(target=_exit_when_harness_is_gone, args=(fd,), daemon=True).start()
    try:
        agent = subprocess.Popen(argv[2:])
    except OSError as exc:
        print(f"cannot start {argv[2]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    status = agent.wait()
    if status >= 0:
        return status
    if -status != signal.SIGKILL:
        signal.signal(-status, signal.SIG_DFL)
    os.kill(os.getpid(), -status)
    return 128 - status  # only reached for a signal that does not end a process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
