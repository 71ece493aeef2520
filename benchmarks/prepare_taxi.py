"""Time and peak memory of preparing new-york-city-taxi-fare-prediction at the real data size.

Kaggle's train.csv has 55,423,856 rows (about 5.5 GB). This writes a synthetic train.csv with
the same columns and types (`--rows` for a quicker run) into a temporary folder, runs the
competition's preparation in a child process, and prints its wall time and peak resident memory
against a 24 GB machine. Smaller runs also print a linear extrapolation to the real size (from
two sizes with `--fit`).

    python benchmarks/prepare_taxi.py --rows 5000000 --fit
    python benchmarks/prepare_taxi.py --rows 200000 --verify   # chunked == in-memory output
    python benchmarks/prepare_taxi.py --rows 4000000 --fit --whole-table

`--verify` prepares a second time with the whole table in memory (no chunks) and checks that
every output file is byte-identical. `--whole-table` also runs, at each size, the reference
approach (the whole table in one pandas frame, as MLE-bench's script does) for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from grading_speed import HWM

REPO = Path(__file__).resolve().parents[1]
COMPETITION = "new-york-city-taxi-fare-prediction"
FULL_ROWS = 55_423_856
BUDGET_BYTES = 24 * 1024**3
GENERATE_BLOCK = 1_000_000
FIGURES = ("seconds", "cpu_seconds", "peak_rss")

# Ends both child scripts: prints the child's own peak resident bytes (see grading_speed.HWM).
PRINT_PEAK = (
    HWM
    + """
print(round(hwm() * 1024 * 1024))
"""
)

# Runs the preparation declared in competition.yaml.
# argv: repo competition raw public private chunksize ("yaml", "none" or rows) block-rows
CHILD = (
    """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mlepipe.preparers import io as preparer_io
from mlepipe.prepare import resolve_preparer
from mlepipe.registry import Registry
comp = Registry(Path(sys.argv[1]) / "competitions").get(sys.argv[2])
params = {k: v for k, v in comp.preparation.items() if k != "kind"}
if sys.argv[6] == "none":
    params.pop("chunksize", None)
elif sys.argv[6] != "yaml":
    params["chunksize"] = int(sys.argv[6])
if sys.argv[7] != "yaml":
    preparer_io.WRITE_BLOCK_ROWS = int(sys.argv[7])
raw, public, private = (Path(p) for p in sys.argv[3:6])
prepare = resolve_preparer(comp.preparation["kind"], comp.id)
prepare(raw=raw, public=public, private=private, **params)
"""
    + PRINT_PEAK
)

# The reference for --whole-table: the approach MLE-bench's own script takes (written here from
# its description): the whole table read with pandas' defaults, split as one frame with
# scikit-learn, written, and train/test keys checked disjoint as Python sets.
# argv: raw public private
WHOLE_TABLE = (
    """
import sys
from pathlib import Path
import pandas as pd
from sklearn.model_selection import train_test_split
raw, public, private = (Path(p) for p in sys.argv[1:4])
table = pd.read_csv(raw / "train.csv")
train, test = train_test_split(table, test_size=9914, random_state=0)
train.to_csv(public / "labels.csv", index=False)
test.drop(columns=["fare_amount"]).to_csv(public / "test.csv", index=False)
test.to_csv(private / "test.csv", index=False)
assert set(train["key"]).isdisjoint(set(test["key"]))
"""
    + PRINT_PEAK
)


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """A train.csv laid out like Kaggle's (same columns, types and value formats)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2009-01-01T00:00:00", "s")
    writer = None
    try:
        for first in range(0, rows, GENERATE_BLOCK):
            n = min(GENERATE_BLOCK, rows - first)
            when = start + rng.integers(0, 6 * 365 * 24 * 3600, n).astype("timedelta64[s]")
            stamp = pc.strftime(pa.array(when), format="%Y-%m-%d %H:%M:%S")
            # Kaggle's key is the pickup time plus a 7-digit number; here the number makes the
            # keys unique across the file.
            number = pc.utf8_lpad(
                pa.array(np.arange(first, first + n) % 10_000_000).cast(pa.string()), 7, "0"
            )
            coords = [
                np.round(centre + spread * rng.standard_normal(n), 6)
                for centre, spread in ((-73.97, 0.04), (40.75, 0.03), (-73.97, 0.04), (40.75, 0.03))
            ]
            coords[0][rng.random(n) < 0.02] = 0.0
            missing = rng.random(n) < 7e-6
            table = pa.table(
                {
                    "key": pc.binary_join_element_wise(stamp, number, "."),
                    "fare_amount": np.round(rng.gamma(2.0, 5.6, n), 2),
                    "pickup_datetime": pc.binary_join_element_wise(stamp, pa.scalar("UTC"), " "),
                    "pickup_longitude": coords[0],
                    "pickup_latitude": coords[1],
                    "dropoff_longitude": pa.array(coords[2], mask=missing),
                    "dropoff_latitude": pa.array(coords[3], mask=missing),
                    "passenger_count": rng.integers(0, 7, n),
                }
            )
            if writer is None:
                # Kaggle's file quotes nothing
                options = pacsv.WriteOptions(quoting_style="none")
                writer = pacsv.CSVWriter(path, table.schema, write_options=options)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def run_preparation(
    raw: Path, out: Path, chunksize: str = "yaml", block: str = "yaml", whole_table: bool = False
) -> tuple[float, int]:
    """Prepares in a child process (ours, or the whole-table reference); returns its wall
    seconds and peak resident bytes."""
    public, private = out / "public", out / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    started = time.perf_counter()
    if whole_table:
        child = [sys.executable, "-c", WHOLE_TABLE, str(raw), str(public), str(private)]
    else:
        args = [str(REPO), COMPETITION, str(raw), str(public), str(private), chunksize, block]
        child = [sys.executable, "-c", CHILD, *args]
    done = subprocess.run(child, check=True, stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - started, int(done.stdout.split()[-1])


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def digests(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest = hashlib.md5()
            with open(p, "rb") as f:
                while block := f.read(1 << 24):
                    digest.update(block)
            out[str(p.relative_to(folder))] = digest.hexdigest()
    return out


def measure(
    rows: int, work: Path, chunksize: str, block: str, whole_table: bool = False
) -> dict[str, float]:
    raw = work / f"raw-{rows}"
    raw.mkdir()
    started = time.perf_counter()
    generate(raw / "train.csv", rows)
    (raw / "GCP-Coupons-Instructions.rtf").write_text("{\\rtf1 coupons}\n")
    size = (raw / "train.csv").stat().st_size
    print(f"generated {rows:,} rows ({size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f}s")
    cpu_before = child_cpu_seconds()
    seconds, peak = run_preparation(raw, work / f"chunked-{rows}", chunksize, block)
    cpu = child_cpu_seconds() - cpu_before
    result = {"rows": rows, "csv_bytes": size, "seconds": seconds, "cpu_seconds": cpu,
              "peak_rss": peak}  # fmt: skip
    if whole_table:
        seconds, peak = run_preparation(raw, work / f"whole-{rows}", whole_table=True)
        result["whole_table"] = {"seconds": seconds, "peak_rss": peak}
    return result


def report(m: dict) -> None:
    print(
        f"rows {m['rows']:,}: wall {m['seconds']:.1f}s (CPU {m['cpu_seconds']:.1f}s), "
        f"peak RSS {m['peak_rss'] / 1024**3:.2f} GiB = {m['peak_rss'] / BUDGET_BYTES:.1%} of 24 GiB"
    )
    if "whole_table" in m:
        ref = m["whole_table"]
        print(
            f"  whole-table reference: wall {ref['seconds']:.1f}s, peak RSS "
            f"{ref['peak_rss'] / 1024**3:.2f} GiB; ours/reference: memory "
            f"{m['peak_rss'] / ref['peak_rss']:.2f}, time {m['seconds'] / ref['seconds']:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--fit", action="store_true", help="also run at rows/2; fit a line")
    parser.add_argument("--verify", action="store_true", help="compare with in-memory output")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--chunksize", default="yaml", help="rows per read chunk (default: yaml)")
    parser.add_argument("--block", default="yaml", help="rows per written block (default: module)")
    parser.add_argument(
        "--whole-table",
        action="store_true",
        help="also run the whole-table reference (MLE-bench's approach) at each size",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="prepare-taxi-") as tmp:
        work = Path(tmp)
        runs = []
        if args.fit and args.rows < FULL_ROWS:
            runs.append(measure(args.rows // 2, work, args.chunksize, args.block, args.whole_table))
            report(runs[-1])
        runs.append(measure(args.rows, work, args.chunksize, args.block, args.whole_table))
        report(runs[-1])
        result: dict[str, object] = {"runs": runs}

        if args.rows < FULL_ROWS:
            if len(runs) == 2:
                (a, b) = runs
                step = (FULL_ROWS - b["rows"]) / (b["rows"] - a["rows"])
                est = {k: b[k] + (b[k] - a[k]) * step for k in FIGURES}
                how = "linear fit of two sizes"
            else:
                scale = FULL_ROWS / runs[-1]["rows"]
                est = {k: runs[-1][k] * scale for k in FIGURES}
                how = "proportional (an upper bound: fixed overheads scale too)"
            print(
                f"extrapolated to {FULL_ROWS:,} rows ({how}): wall {est['seconds'] / 60:.1f} min "
                f"(CPU {est['cpu_seconds'] / 60:.1f} min), peak RSS {est['peak_rss'] / 1024**3:.1f}"
                f" GiB = {est['peak_rss'] / BUDGET_BYTES:.0%} of 24 GiB"
            )
            result["extrapolated"] = {"rows": FULL_ROWS, **est}
            if len(runs) == 2 and "whole_table" in b:
                ra, rb = a["whole_table"]["peak_rss"], b["whole_table"]["peak_rss"]
                ref_peak = rb + (rb - ra) * step
                print(
                    f"whole-table reference extrapolated: peak RSS {ref_peak / 1024**3:.1f} GiB"
                    f" = {ref_peak / BUDGET_BYTES:.0%} of 24 GiB"
                )
                result["extrapolated"]["whole_table_peak_rss"] = ref_peak

        if args.verify:
            rows = runs[-1]["rows"]
            run_preparation(work / f"raw-{rows}", work / f"in-memory-{rows}", "none")
            chunked = digests(work / f"chunked-{rows}")
            whole = digests(work / f"in-memory-{rows}")
            same = chunked == whole
            print("chunked and in-memory outputs are", "identical" if same else "DIFFERENT")
            result["identical_to_in_memory"] = same
            if not same:
                for name in sorted(set(chunked) | set(whole)):
                    if chunked.get(name) != whole.get(name):
                        print(f"  differs: {name}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return 0 if result.get("identical_to_in_memory", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
