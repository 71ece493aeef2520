"""Holds out 10% of the cases (random_state 42), plus every day after the fourth of the other
cases, as the test set (the original test set also held later days of training patients).

Scans are folders `<case>/<case>_<day>/scans/` of PNG slices named
`slice_<nnnn>_<width>_<height>_<pixel width>_<pixel height>.png`; they are copied unchanged. The
answers keep each test slice's width and height, read from its file name, which decoding the
run-length encoded masks needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_tree, read_csv, require_columns
from mlepipe.preparers.splits import split_ids

KEEP_DAYS = 4


def _day_number(day: str) -> int:
    return int(day[len("day") :])


def _slice_sizes(scans: Path) -> dict[str, tuple[int, int]]:
    """Slice number ('0001') -> (width, height), from the PNG names of one scans folder."""
    sizes: dict[str, list[tuple[int, int]]] = {}
    for path in scans.glob("slice_*.png"):
        parts = path.stem.split("_")
        sizes.setdefault(parts[1], []).append((int(parts[2]), int(parts[3])))
    return {k: v[0] for k, v in sizes.items() if len(v) == 1}


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train.csv")
    require_columns(labels, ["id", "class", "segmentation"], "train.csv")
    parts = labels["id"].str.split("_")
    case, day, slice_ = parts.str[0], parts.str[1], parts.str[-1]

    train_cases, test_cases = split_ids(case.unique(), test_size=0.1, random_state=42)
    in_test = case.isin(test_cases).to_numpy().copy()
    # Days after the fourth of each training case move to the test set.
    moved: set[tuple[str, str]] = set()
    train_days = pd.DataFrame({"case": case[~in_test], "day": day[~in_test]}).drop_duplicates()
    for name, days in train_days.groupby("case", sort=False)["day"]:
        later = sorted(days, key=_day_number)[KEEP_DAYS:]
        moved.update((name, d) for d in later)
    in_test |= np.array([(c, d) in moved for c, d in zip(case, day, strict=True)], dtype=bool)

    test_cases = set(test_cases)
    for name in case.unique():
        side = "test" if name in test_cases else "train"
        source = raw / "train" / name
        if not source.is_dir():
            raise PreparationError(f"{source} is missing; the download looks incomplete")
        (public / side / name).mkdir(parents=True, exist_ok=True)
        for day_dir in sorted(p for p in source.iterdir() if p.is_dir()):
            day_name = day_dir.name[len(name) + 1 :]
            to = "test" if side == "test" or (name, day_name) in moved else "train"
            copy_tree(day_dir, public / to / name / day_dir.name)

    train = labels[~in_test]
    test = labels[in_test].rename(columns={"segmentation": "predicted"})
    widths, heights = [], []
    cache: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for c, d, s in zip(case[in_test], day[in_test], slice_[in_test], strict=True):
        if (c, d) not in cache:
            cache[c, d] = _slice_sizes(raw / "train" / c / f"{c}_{d}" / "scans")
        if s not in cache[c, d]:
            raise PreparationError(
                f"expected exactly one scan of slice {s} in {raw / 'train' / c / f'{c}_{d}'}"
            )
        width, height = cache[c, d][s]
        widths.append(width)
        heights.append(height)
    # Stored as floats ("266.0"), as MLE-bench's row-by-row assignment leaves them.
    answers = test.assign(
        image_width=np.array(widths, dtype=float), image_height=np.array(heights, dtype=float)
    )

    sample = test.assign(predicted="1 1 5 2")
    sample.to_csv(public / "sample_submission.csv", index=False)
    answers.to_csv(private / "test.csv", index=False)
    train.to_csv(public / "train.csv", index=False)
    test[["id", "class"]].to_csv(public / "test.csv", index=False)
