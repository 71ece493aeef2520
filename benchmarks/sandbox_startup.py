"""Per-run overhead of the sandbox for an agent that exits at once (`true`).

Compares a plain subprocess, runner "none" and runner "bubblewrap" (each with and without
cgroup limits), and with an engine and image given runner "container", timing the whole call as
the pipeline makes it: median over N runs.

    python benchmarks/sandbox_startup.py [--runs 30] [--container-engine URL --image REF]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlepipe.harness.runner import Limits, Mount, SandboxUnavailable
from mlepipe.harness.runners import check_runner, get_runner

TARGET_SECONDS = 0.5
CONTAINER_TARGET_SECONDS = 1.0  # per run, with Podman's overlay storage


def _median_seconds(call, runs: int) -> float:
    call()  # warm caches (and the one-off bubblewrap probe) before timing
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per variant (default 30)")
    parser.add_argument("--container-engine", help="engine URL for runner container")
    parser.add_argument("--image", help="image for runner container")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mlepipe-bench-") as tmp:
        work = Path(tmp)
        (work / "submission").mkdir()
        mounts = [Mount(work / "submission", "/home/submission", writable=True)]

        def sandboxed(runner: str, limits: Limits, **options):
            workdir = str(work / "submission") if runner == "none" else "/home/submission"
            return lambda: get_runner(runner, **options).run(
                ["true"],
                mounts=mounts,
                env={},
                limits=limits,
                workdir=workdir,
                stdout=work / "out.txt",
                stderr=work / "err.txt",
            )

        bare = Limits(wall_seconds=60)
        limited = Limits(wall_seconds=60, memory_mb=1024, cpus=1, pids=256)
        variants = {"plain subprocess": lambda: subprocess.run(["true"], check=True)}
        variants["runner none"] = sandboxed("none", bare)
        variants["runner none + cgroup limits"] = sandboxed("none", limited)
        try:
            check_runner("bubblewrap")
            variants["bubblewrap"] = sandboxed("bubblewrap", bare)
            variants["bubblewrap + cgroup limits"] = sandboxed("bubblewrap", limited)
        except SandboxUnavailable as exc:
            print(f"bubblewrap skipped: {exc}", file=sys.stderr)

        if args.container_engine and args.image:
            options = {"engine": args.container_engine, "image": args.image}
            variants["container"] = sandboxed("container", bare, **options)
            variants["container + limits"] = sandboxed("container", limited, **options)

        medians = {name: _median_seconds(call, args.runs) for name, call in variants.items()}

    plain = medians["plain subprocess"]
    print(f"median over {args.runs} runs of `true` (target overhead < {TARGET_SECONDS} s)")
    print(f"{'variant':30} {'median s':>10} {'overhead s':>11} {'x plain':>8}")
    for name, seconds in medians.items():
        print(f"{name:30} {seconds:10.4f} {seconds - plain:11.4f} {seconds / plain:8.1f}")
    worst = max(s - plain for name, s in medians.items() if not name.startswith("container"))
    print(
        f"largest overhead {worst:.3f} s: {'within' if worst < TARGET_SECONDS else 'OVER'} "
        "the target"
    )
    ok = worst < TARGET_SECONDS
    container = [s for name, s in medians.items() if name.startswith("container")]
    if container:
        slowest = max(container)
        ok = ok and slowest < CONTAINER_TARGET_SECONDS
        print(
            f"container runs take {slowest:.3f} s at most: "
            f"{'within' if slowest < CONTAINER_TARGET_SECONDS else 'OVER'} the "
            f"{CONTAINER_TARGET_SECONDS} s target"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
