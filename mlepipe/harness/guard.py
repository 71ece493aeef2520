"""The first process inside a sandbox: it runs the agent only while the harness lives.

    python guard.py FD [REPORT_FD] -- AGENT_ARGV...

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

It also meters the sandbox. It is a subreaper, so every process of the sandbox that loses its
parent becomes its child, and it reaps them all: each process's CPU time and writes (the bytes
it sent towards a disk, counted by the kernel as it dirties the pages, so a file deleted before
it reached the disk counts too, and tmpfs not at all) reach the guard's reaped children's
count. Once the agent has ended, the guard kills what is left of its PID namespace and reaps
it, then writes one JSON line, ``{"bytes_written": N, "cpu_seconds": S}``, to REPORT_FD (a pipe
to the harness), and only then ends. It makes itself non-dumpable, so that a process of the
sandbox, under the same uid, can neither open its descriptors through /proc nor trace it.

Only the standard library, and nothing of mlepipe: it is run by path, with `python -I`.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading


def _own_pid_namespace() -> bool:
    # The sandbox's first process (or its init's child) in a PID namespace of its own: on a
    # host, PIDs 1 and 2 belong to init and the kernel, never to a guard.
    return os.getpid() <= 2


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
        if _own_pid_namespace():
            # Every other process of the namespace (its init excepted); none outside it.
            os.kill(-1, signal.SIGKILL)
    except OSError:  # nothing else to kill yet
        pass
    finally:
        os._exit(137)


PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: writes of orphans go uncounted
        pass


def _wait_for(agent: int) -> int:
    """Reap every child (the agent and the orphans handed over) until the agent has ended;
    its wait status."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == agent:
            return status


def _reap_the_rest() -> None:
    """Once the agent has ended, nothing of the sandbox outlives it: in a PID namespace of its
    own, kill the rest and reap it; elsewhere, reap only those that have ended."""
    own_namespace = _own_pid_namespace()
    if own_namespace:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:  # nothing else is left
            pass
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if own_namespace else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _report(fd: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_oublock counts 512-byte blocks: the reaped processes' write_bytes, to the block.
    report = {"bytes_written": usage.ru_oublock * 512,
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}  # fmt: skip
    try:
        os.write(fd, (json.dumps(report) + "\n").encode())
    except OSError:  # the harness is gone: nobody to tell
        pass


def main(argv: list[str]) -> int:
    try:
        split = argv.index("--")
        fds = [int(fd) for fd in argv[:split]]
    except ValueError:
        fds, split = [], 0
    command = argv[split + 1 :]
    if not 1 <= len(fds) <= 2 or not command:
        print("usage: guard.py FD [REPORT_FD] -- COMMAND...", file=sys.stderr)
        return 2
    for fd in fds:
        os.set_inheritable(fd, False)  # the agent gets no handle on the harness's pipes
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        # A handler, not SIG_IGN: an ignored signal would stay ignored in the agent.
        signal.signal(sig, lambda signum, frame: None)
    threading.Thread(target=_exit_when_harness_is_gone, args=(fds[0],), daemon=True).start()
    try:
        agent = subprocess.Popen(command)
    except OSError as exc:
        print(f"cannot start {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    wait_status = _wait_for(agent.pid)
    status = agent.returncode = os.waitstatus_to_exitcode(wait_status)
    _reap_the_rest()
    if len(fds) > 1:
        _report(fds[1])
    if status >= 0:
        return status
    if -status != signal.SIGKILL:
        signal.signal(-status, signal.SIG_DFL)
    os.kill(os.getpid(), -status)
    return 128 - status  # only reached for a signal that does not end a process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
