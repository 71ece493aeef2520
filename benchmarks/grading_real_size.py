"""Grading time and peak memory of every competition at its real test-set size, as a ratio to
the physical floor: reading the submission and the answers with pyarrow, in the same run.

No Kaggle data is needed. Each competition's synthetic fixture (tests/fixtures/<id>.py) is
prepared, its answers and its perfect submission (the answers as a submission) are tiled to the
number of answer rows MLE-bench has on the real data (benchmarks/real_test_sizes.csv), and
every copy gets its own ids (see IdShifter: composite ids such as `<image>_<class>` stay
consistent between answers and submission). Then the perfect submission
is graded the way the pipeline grades it (`grade_submission`, imports excluded), each
measurement in a fresh subprocess (best of --repeat) so that its peak RSS is its own.

    python benchmarks/grading_real_size.py                 # all 82 (about half an hour)
    python benchmarks/grading_real_size.py spooky-author-identification --repeat 3
    python benchmarks/grading_real_size.py --json figures.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from grading_speed import BASE, FLOOR, GRADE, best, floor_args, run  # noqa: E402

from fixtures import FixtureSource, fixture_ids, load  # noqa: E402
from mlepipe.grading.checks import GradingSpec  # noqa: E402
from mlepipe.grading.scoring import load_answers  # noqa: E402
from mlepipe.prepare import prepare  # noqa: E402
from mlepipe.registry import Registry  # noqa: E402

SIZES = Path(__file__).with_name("real_test_sizes.csv")
FIRST_NUMBER = re.compile(r"\d+")


def real_sizes() -> dict[str, int]:
    with SIZES.open(newline="") as f:
        return {row["competition_id"]: int(row["answer_rows"]) for row in csv.DictReader(f)}


# --------------------------------------------------------------------------------------------
# Tiling answers and submission to the real size


class IdShifter:
    """Gives copy number `copy` of the answers its own ids, the same way in the answers and the
    submission: the first number inside an id is shifted by copy * 10**width, `width` being the
    digits of the largest such number in the answers (so copies never meet). Integer ids too
    large for that within int64 (e.g. 19-digit record ids) are renumbered by rank instead."""

    def __init__(self, answer_ids: list, copies: int):
        found = [FIRST_NUMBER.search(str(v)) for v in answer_ids]
        self.step = 10 ** max([len(m.group()) for m in found if m] + [1])
        ints = {int(v) for v in answer_ids if isinstance(v, (int, np.integer))}
        self.ranks = None
        if ints and max(map(abs, ints)) + copies * self.step >= 2**63:
            self.ranks = {v: i for i, v in enumerate(sorted(ints))}

    def __call__(self, values: pd.Series, copies: int) -> pd.Series:
        """`values` (one copy's ids) repeated `copies` times, each copy with its own ids."""
        n = len(values)
        copy = np.repeat(np.arange(copies, dtype=np.int64), n)
        if pd.api.types.is_integer_dtype(values):
            if self.ranks is not None:
                ranked = values.map(self.ranks)
                if ranked.isna().any():
                    raise ValueError("an integer id of the submission is not among the answers'")
                return pd.Series(
                    np.tile(ranked.to_numpy(np.int64), copies) + copy * len(self.ranks)
                )
            return pd.Series(np.tile(values.to_numpy(np.int64), copies) + copy * self.step)
        # split each id once into text before its first number, the number, and the rest
        parts = values.astype(str).str.extract(r"^(\D*)(\d+)(.*)$")
        has_number = np.tile(parts[1].notna().to_numpy(), copies)
        original = np.tile(values.astype(str).to_numpy(object), copies)
        head, tail = (np.tile(parts[i].fillna("").to_numpy(object), copies) for i in (0, 2))
        number = np.tile(
            np.array([int(v) if isinstance(v, str) else 0 for v in parts[1]], object), copies
        )
        shifted = pd.Series(head + (number + copy.astype(object) * self.step).astype(str) + tail)
        prefixed = pd.Series("c" + copy.astype(str).astype(object) + "_" + original)
        out = shifted.where(has_number, prefixed)
        return out.where(copy > 0, pd.Series(original))


def tile_frame(frame: pd.DataFrame, copies: int, id_columns, shift: IdShifter) -> pd.DataFrame:
    tiled = frame.iloc[np.tile(np.arange(len(frame)), copies)].reset_index(drop=True)
    for col in id_columns:
        if col in frame.columns:
            tiled[col] = shift(frame[col], copies).to_numpy()
    return tiled


def tile_records(records: list[dict], copies: int, id_columns, shift: IdShifter) -> list[dict]:
    tiled = [dict(rec) for _ in range(copies) for rec in records]
    for col in id_columns:
        if all(col in rec for rec in records):
            ids = shift(pd.Series([r[col] for r in records]), copies)
            for rec, value in zip(tiled, ids, strict=True):
                rec[col] = value
    return tiled


def write_scaled(comp, fixture_data: Path, scaled_data: Path, target_rows: int) -> dict:
    """Writes the tiled answers under `scaled_data` and the tiled perfect submission beside
    them; returns where they are and how many answer rows they hold."""
    module = load(comp.id)
    spec = GradingSpec.of(comp)
    answers = load_answers(comp.answers_path(fixture_data))
    submission = (
        module.to_submission(answers, comp) if hasattr(module, "to_submission") else answers
    )
    ids = getattr(module, "TILED_ID_COLUMNS", spec.id_columns)
    copies = max(1, round(target_rows / len(answers)))
    if isinstance(answers, list):
        shift = IdShifter([rec[c] for rec in answers for c in ids if c in rec], copies)
    else:
        shift = IdShifter([v for c in ids if c in answers.columns for v in answers[c]], copies)
    answers_path = comp.answers_path(scaled_data)
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(answers, list):
        with answers_path.open("w", encoding="utf-8") as f:
            for rec in tile_records(answers, copies, ids, shift):
                f.write(json.dumps(rec) + "\n")
        rows = copies * len(answers)
    else:
        tiled = tile_frame(answers, copies, ids, shift)
        tiled.to_csv(answers_path, index=False)
        rows = len(tiled)
    submission_path = scaled_data / comp.id / "submission.csv"
    tile_frame(submission, copies, ids, shift).to_csv(submission_path, index=False)
    return {"answers": answers_path, "submission": submission_path, "rows": rows}


# --------------------------------------------------------------------------------------------


def measure(comp, target_rows: int, work: Path, repeat: int) -> dict:
    fixture_data, scaled_data = work / "fixture", work / "scaled"
    prepare(comp, fixture_data, FixtureSource(load(comp.id)), verify_reference=False)
    files = write_scaled(comp, fixture_data, scaled_data, target_rows)
    floor = best(FLOOR, floor_args(files["submission"], files["answers"]), repeat)
    grade = best(GRADE, [str(files["submission"]), str(scaled_data), comp.id], repeat)
    megabytes = (files["submission"].stat().st_size + files["answers"].stat().st_size) / 1e6
    return {"rows": files["rows"], "mb": megabytes, "floor": floor, "grade": grade}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("ids", nargs="*", help="competition ids (default: all with a fixture)")
    p.add_argument("--repeat", type=int, default=2, help="runs per measurement; best is kept")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--dir", type=Path, help="scratch folder (default: a temporary one)")
    args = p.parse_args()

    registry, sizes = Registry(), real_sizes()
    ids = args.ids or fixture_ids()
    unknown = [i for i in ids if i not in sizes]
    if unknown:
        sys.exit(f"no real test-set size in {SIZES.name} for: {', '.join(unknown)}")
    floor_base, grade_base = run(BASE, "floor")["peak_mb"], run(BASE, "grade")["peak_mb"]
    print(
        f"RSS of the interpreter and imports alone (subtracted below): floor {floor_base:.0f} MB,"
        f" grade {grade_base:.0f} MB"
    )
    head = (
        f"{'competition':46} {'rows':>9} {'MB':>7} {'floor s':>8} {'grade s':>8} {'ratio':>6}"
        f" {'floor MB':>8} {'grade MB':>8}  score"
    )
    print(head)
    figures, started = {}, time.perf_counter()
    for cid in ids:
        comp = registry.get(cid)
        with tempfile.TemporaryDirectory(dir=args.dir, prefix="grading-real-") as tmp:
            try:
                m = measure(comp, sizes[cid], Path(tmp), args.repeat)
            except Exception as exc:  # one competition's failure must not hide the others
                print(f"{cid:46} FAILED: {str(exc).strip().splitlines()[-1][:200]}", flush=True)
                figures[cid] = {"error": str(exc)[-2000:]}
                continue
        ratio = m["grade"]["seconds"] / m["floor"]["seconds"]
        floor_mb, grade_mb = m["floor"]["peak_mb"] - floor_base, m["grade"]["peak_mb"] - grade_base
        print(
            f"{cid:46} {m['rows']:9d} {m['mb']:7.1f} {m['floor']['seconds']:8.3f}"
            f" {m['grade']['seconds']:8.3f} {ratio:6.2f} {floor_mb:8.0f} {grade_mb:8.0f}"
            f"  {m['grade']['score']:.5g}",
            flush=True,
        )
        figures[cid] = {**m, "ratio": ratio, "floor_mb": floor_mb, "grade_mb": grade_mb}
    done = {k: v for k, v in figures.items() if "ratio" in v}
    if done:
        ratios = sorted(v["ratio"] for v in done.values())
        print(
            f"\n{len(done)} graded, {len(figures) - len(done)} failed, "
            f"{time.perf_counter() - started:.0f} s. Ratio grade/floor: median "
            f"{ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f}; "
            f"{sum(r <= 2 for r in ratios)} of {len(ratios)} at most 2x."
        )
        # Below ~50 ms of reading, fixed per-process costs (first calls into pandas' parser and
        # scikit-learn) outweigh the data: say how long those take rather than only a ratio.
        for label, group in (
            ("floor >= 50 ms", {k: v for k, v in done.items() if v["floor"]["seconds"] >= 0.05}),
            ("floor < 50 ms", {k: v for k, v in done.items() if v["floor"]["seconds"] < 0.05}),
        ):
            if group:
                seconds = {k: v["grade"]["seconds"] for k, v in group.items()}
                slowest = max(seconds, key=seconds.get)
                within = sum(v["ratio"] <= 2 for v in group.values())
                median = sorted(seconds.values())[len(seconds) // 2]
                print(
                    f"{label}: {len(group)} competitions, {within} at most 2x; grading median "
                    f"{median:.3f} s, slowest {seconds[slowest]:.3f} s ({slowest})"
                )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    sys.exit(0 if len(done) == len(figures) else 1)


if __name__ == "__main__":
    main()
