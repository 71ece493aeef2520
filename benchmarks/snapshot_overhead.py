"""What submission snapshots cost: the harness's CPU while an agent rewrites a large submission,
and the time to grade a run's snapshots against the number of distinct versions.

1. Overhead. A bubblewrap run of an agent that keeps its CPUs busy and rewrites a CSV of
   ``--mb`` MB (in place, so the harness also meets half-written files) every ``--period``
   seconds, for ``--seconds``. The watcher's own CPU time (its thread's clock, the final look
   included) is set against the run's CPU time (its cgroup); the target is under 1 %. The same
   run without snapshots gives the agent's work rate with and without them.
2. Grading. A run directory with 1, 5 and 20 distinct versions of a real competition's
   submission (the sample submission with some predictions changed), graded as the pipeline
   does: in a bounded bubblewrap sandbox, all versions in one child (`grade_timeline`), against
   one child per version (the reference).

    python benchmarks/snapshot_overhead.py [--seconds 60] [--period 3] [--mb 100]
        [--data-dir ../ref-run/data --competition spaceship-titanic]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from mlepipe.harness.runner import Limits, Mount
from mlepipe.harness.runners import get_runner
from mlepipe.harness.snapshots import SNAPSHOTS_DIR, SnapshotLimits, SubmissionWatcher

TARGET_SHARE = 0.01

# The agent: a busy loop on every CPU it is given, and a rewrite of the submission every period.
AGENT = r"""
import os, sys, time
seconds, period = float(sys.argv[1]), float(sys.argv[2])
mb, cpus = int(sys.argv[3]), int(sys.argv[4])
end = time.monotonic() + seconds

def loop():
    x = 0
    for k in range(20000):
        x += k * k

children = []
for _ in range(cpus - 1):  # one busy process per further CPU, each reporting its loops
    r, w = os.pipe()
    if os.fork() == 0:
        n = 0
        while time.monotonic() < end:
            loop()
            n += 1
        os.write(w, str(n).encode())
        os._exit(0)
    os.close(w)
    children.append(r)
row = b"%012d,0.123456789,0.987654321,some-text-padding-for-width\n"
block = b"".join(row % i for i in range(100000))
version, n, next_write = 0, 0, time.monotonic()
while time.monotonic() < end:
    if time.monotonic() >= next_write:  # rewritten in place: the harness may see it half-done
        version += 1
        with open("/home/submission/submission.csv", "wb") as f:
            f.write(b"id,a,b,c\n# version %d\n" % version)
            left = mb * 1024 * 1024
            while left > 0:
                f.write(block[:left])
                left -= len(block)
        next_write += period
    loop()
    n += 1
total = n + sum(int(os.read(r, 64)) for r in children)
print(f"{total} {version}")
"""


def overhead(seconds: float, period: float, mb: int, cpus: int, snapshots: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="mlepipe-bench-") as tmp:
        work = Path(tmp)
        (work / "submission").mkdir()
        (work / "agent.py").write_text(AGENT)
        mounts = [
            Mount(work / "submission", "/home/submission", writable=True),
            Mount(work / "agent.py", "/home/agent.py"),
        ]
        watcher = SubmissionWatcher(
            work / "submission", work / SNAPSHOTS_DIR,
            SnapshotLimits(max_versions=1000, max_mb=1 << 20),
        )  # fmt: skip
        if snapshots:
            watcher.start()
        result = get_runner("bubblewrap").run(
            ["python", "/home/agent.py", str(seconds), str(period), str(mb), str(cpus)],
            mounts=mounts, env={}, workdir="/home",
            limits=Limits(wall_seconds=seconds + 60, cpus=cpus, disk_mb=100_000),
            stdout=work / "out.txt", stderr=work / "err.txt",
        )  # fmt: skip
        summary = watcher.finish() if snapshots else None
        out = (work / "out.txt").read_text().split()
        if result.exit_code != 0 or len(out) != 2:
            sys.exit(f"the agent failed: {(work / 'err.txt').read_text()[-2000:]}")
        return {
            "run_cpu": result.metering["cpu_seconds"],
            "wall": result.wall_seconds,
            "work": int(out[0]),
            "rewrites": int(out[1]),
            "snapshots": summary,
        }


def grading(data_dir: Path, competition_id: str, counts: list[int]) -> list[dict]:
    import pandas as pd

    from mlepipe.bounded_grading import SandboxedScorer
    from mlepipe.grading.report import grade_timeline
    from mlepipe.harness.snapshots import INDEX
    from mlepipe.registry import Registry

    competition = Registry().get(competition_id)
    sample = pd.read_csv(competition.public_dir(data_dir) / "sample_submission.csv")
    target = sample.columns[1]
    rows = []
    for n in counts:
        with tempfile.TemporaryDirectory(prefix="mlepipe-bench-") as tmp:
            run_dir = Path(tmp) / "run"
            folder = run_dir / SNAPSHOTS_DIR
            folder.mkdir(parents=True)
            index = []
            for i in range(n):
                version = sample.copy()
                version.loc[: i * 50, target] = ~version.loc[: i * 50, target].astype(bool)
                path = folder / f"v{i}.csv"
                version.to_csv(path, index=False)
                index.append({"elapsed_s": i, "sha256": f"{i:064x}", "bytes": 0, "file": path.name})
            (folder / INDEX).write_text("".join(json.dumps(e) + "\n" for e in index))
            scorer = SandboxedScorer(
                memory_mb=4000, last_memory_mb=4000, seconds=600, sandbox="bubblewrap",
                run_dir=run_dir,
            )  # fmt: skip
            start = time.perf_counter()
            timeline = grade_timeline(run_dir, competition, data_dir, None, scorer)
            together = time.perf_counter() - start
            start = time.perf_counter()
            apart = [scorer(folder / e["file"], competition, data_dir) for e in index]
            one_each = time.perf_counter() - start
            assert [e["score"] for e in timeline] == [v["mlebench"][0] for v in apart]
            rows.append({"versions": n, "one_child": together, "one_child_each": one_each})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run")
    parser.add_argument("--period", type=float, default=3.0, help="seconds between rewrites")
    parser.add_argument("--mb", type=int, default=100, help="size of the submission")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="agent's CPUs")
    parser.add_argument("--data-dir", type=Path, help="prepared data, for the grading figure")
    parser.add_argument("--competition", default="spaceship-titanic")
    parser.add_argument("--versions", default="1,5,20", help="distinct versions to grade")
    args = parser.parse_args(argv)

    on = overhead(args.seconds, args.period, args.mb, args.cpus, snapshots=True)
    off = overhead(args.seconds, args.period, args.mb, args.cpus, snapshots=False)
    snap = on["snapshots"]
    share = snap["cpu_seconds"] / on["run_cpu"]
    print(
        f"overhead: {on['rewrites']} rewrites of {args.mb} MB in {on['wall']:.1f} s on "
        f"{args.cpus} CPU(s); {snap['versions']} versions kept, {snap['looks']} looks"
    )
    print(
        f"  snapshot CPU {snap['cpu_seconds']:.3f} s of the run's {on['run_cpu']:.1f} s: "
        f"{share * 100:.2f} % (target < {TARGET_SHARE * 100:.0f} %) "
        f"{'ok' if share < TARGET_SHARE else 'OVER TARGET'}"
    )
    print(
        f"  snapshot CPU per second of the run: {snap['cpu_seconds'] / on['wall'] * 100:.2f} % of "
        f"one CPU; the run's own CPU per second: {on['run_cpu'] / on['wall']:.2f} CPUs"
    )
    print(
        f"  agent's work with snapshots {on['work']} loops, without {off['work']} loops: "
        f"ratio {on['work'] / off['work']:.3f}"
    )
    if args.data_dir:
        counts = [int(n) for n in args.versions.split(",")]
        print(f"grading {args.competition}: versions, one child for all, one child each")
        for row in grading(args.data_dir.resolve(), args.competition, counts):
            print(
                f"  {row['versions']:3d}  {row['one_child']:6.2f} s  {row['one_child_each']:6.2f} s"
                f"  ({row['one_child'] / row['versions']:.2f} s per version)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
