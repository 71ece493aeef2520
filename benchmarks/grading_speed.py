"""Grading time and peak memory per competition, as a ratio to the physical floor: only reading
the submission and the answers with pyarrow's CSV reader, in the same run.

Each measurement runs in a fresh subprocess (best of --repeat) so peak RSS is its own.
The submission graded is the answers themselves (a perfect, valid submission), or the sample
submission with --sample.

  python benchmarks/grading_speed.py --data-dir DATA [IDS...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Peak resident memory of this process alone. Not ru_maxrss: Linux carries a parent's peak over
# fork and exec into the child's figure.
HWM = """
def hwm():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
"""

# pyarrow's parallel CSV reader refuses quoted cells that span lines; a file that has them
# (see multiline_cells) is read with newlines_in_values, which is slower.
FLOOR = (
    HWM
    + """
import json, sys, time
import pyarrow.csv as pv, pyarrow.json as pj
def reader(path, multiline):
    if path.endswith(".jsonl"):
        return pj.read_json
    options = pv.ParseOptions(newlines_in_values=multiline == "1")
    return lambda p: pv.read_csv(p, parse_options=options)
sub, ans = sys.argv[1], sys.argv[2]
read_sub, read_ans = reader(sub, sys.argv[3]), reader(ans, sys.argv[4])
t = time.perf_counter()
read_sub(sub); read_ans(ans)
dt = time.perf_counter() - t
peak = hwm()
print(json.dumps({"seconds": dt, "peak_mb": peak}))
"""
)

GRADE = (
    HWM
    + """
import json, sys, time
from pathlib import Path
from mlepipe.grading.leaderboards import LeaderboardSource
from mlepipe.registry import Registry
comp = Registry().get(sys.argv[3])
import mlepipe.grading.report, mlepipe.metrics  # imports are not part of grading time
t = time.perf_counter()
none = LeaderboardSource.parse("none")
r = mlepipe.grading.report.grade_submission(Path(sys.argv[1]), comp, Path(sys.argv[2]), none)
dt = time.perf_counter() - t
assert r.valid_submission, r.invalid_reason
peak = hwm()
print(json.dumps({"seconds": dt, "peak_mb": peak, "score": r.score}))
"""
)

BASE = (
    HWM
    + """
import json, sys
if sys.argv[1] == "grade":
    import mlepipe.grading.report, mlepipe.metrics
import pyarrow.csv, pyarrow.json
print(json.dumps({"peak_mb": hwm()}))
"""
)


def multiline_cells(path: Path) -> str:
    """ "1" when pyarrow's default CSV reader refuses the file for cells spanning lines."""
    import pyarrow as pa
    import pyarrow.csv as pv

    if path.suffix != ".csv":
        return "0"
    try:
        pv.read_csv(path)
        return "0"
    except pa.ArrowInvalid:
        return "1"


def floor_args(sub: Path, answers: Path) -> list[str]:
    return [str(sub), str(answers), multiline_cells(sub), multiline_cells(answers)]


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(code: str, args: list[str], repeat: int) -> dict:
    results = [run(code, *args) for _ in range(repeat)]
    return min(results, key=lambda r: r["seconds"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", required=True, type=Path)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sample", action="store_true", help="grade the sample submission instead")
    p.add_argument("ids", nargs="*", help="competition ids (default: every prepared one)")
    args = p.parse_args()

    from mlepipe.registry import Registry

    reg = Registry()
    ids = args.ids or [c for c in reg.ids() if reg.get(c).answers_path(args.data_dir).is_file()]
    floor_base, grade_base = run(BASE, "floor")["peak_mb"], run(BASE, "grade")["peak_mb"]
    print(
        f"RSS of the interpreter and imports alone (subtracted below): floor {floor_base:.0f} MB,"
        f" grade {grade_base:.0f} MB"
    )
    print(
        f"{'competition':48} {'rows':>9} {'MB':>7} {'floor s':>8} {'grade s':>8} {'ratio':>6}"
        f" {'floor MB':>9} {'grade MB':>9}"
    )
    for cid in ids:
        comp = reg.get(cid)
        answers = comp.answers_path(args.data_dir)
        if answers.suffix != ".csv":
            print(f"{cid:48} (answers are {answers.suffix}; skipped)")
            continue
        sub = comp.sample_submission_path(args.data_dir) if args.sample else answers
        size = (sub.stat().st_size + answers.stat().st_size) / 1e6
        rows = sum(1 for _ in answers.open("rb")) - 1
        floor = best(FLOOR, floor_args(sub, answers), args.repeat)
        grade = best(GRADE, [str(sub), str(args.data_dir), cid], args.repeat)
        print(
            f"{cid:48} {rows:9d} {size:7.1f} {floor['seconds']:8.3f} {grade['seconds']:8.3f}"
            f" {grade['seconds'] / floor['seconds']:6.2f} {floor['peak_mb'] - floor_base:9.0f}"
            f" {grade['peak_mb'] - grade_base:9.0f}"
        )


if __name__ == "__main__":
    main()
