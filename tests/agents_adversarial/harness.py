"""Run sleeper.py in the sandbox for a long time; the test SIGKILLs this process."""

import sys
from pathlib import Path

from mlepipe.harness.runner import Limits, Mount
from mlepipe.harness.runners import get_runner

scripts, out, marker = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
get_runner("bubblewrap").run(
    ["python", "/agent/sleeper.py", marker],
    mounts=[Mount(scripts, "/agent")],
    env={},
    limits=Limits(wall_seconds=300, pids=50),
    workdir="/tmp",
    stdout=out / "stdout.txt",
    stderr=out / "stderr.txt",
)
