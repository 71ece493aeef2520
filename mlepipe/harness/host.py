"""Runner ``none``: the agent process directly on the host, without isolation.

It still runs under the wall-clock limit and the cgroup limits. There is no mount namespace, so
every sandbox path the agent is given (command line, environment, working directory, texts)
becomes the host path behind its mount (``Runner.agent_view``), and the same agent works
unchanged under every runner. Results say ``runner == "none"`` so that reports can mark such
runs as unsandboxed.

Only the direct child dies with a killed harness (parent-death signal); the next run's clean-up
of stale cgroups takes care of the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from mlepipe.harness import cgroups
from mlepipe.harness.runner import Command, Launch, Limits, Runner, SandboxError, kill_quietly


class HostRunner(Runner):
    name = "none"
    host_paths = True

    def home(self) -> str:
        return os.environ.get("HOME", "/tmp")

    def isolation(self, limits: Limits, workdir: str) -> tuple[dict[str, str | None], list[str]]:
        if not Path(workdir).is_dir():
            raise SandboxError(
                f"working directory {workdir} is not a folder on this host (runner none takes "
                "host paths: AgentView.workdir translates a sandbox path)"
            )
        enforced = {"gpus": "CUDA_VISIBLE_DEVICES" if limits.gpus else None}
        notes = [
            "runner none: no isolation; the command sees the host file system and "
            "network, and is given the host paths behind the mounts"
        ]
        return enforced, notes

    def launch(self, command: Command, notes: list[str]) -> Launch:
        return Launch(list(command.argv), env=command.env, cwd=command.workdir)

    def signal_untracked(
        self, proc: subprocess.Popen, cg: cgroups.RunCgroup, sig: int, exclude: tuple[int, ...]
    ) -> None:
        # The command leads its own session: its process group holds what it started.
        kill_quietly(proc.pid, sig, group=True)

    def kill_leftovers(self, proc: subprocess.Popen, cg: cgroups.RunCgroup) -> None:
        kill_quietly(proc.pid, signal.SIGKILL, group=True)
        super().kill_leftovers(proc, cg)
