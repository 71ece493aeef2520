"""A hold-out of whole recording days of the training drives.

Training drives are named `YYYY-MM-DD-<area>-<n>`; their distinct dates are sorted and split by
sklearn's train_test_split(test_size=0.1, random_state=0), and each drive goes with its date.
Drive folders are copied as they are, except that test drives lose their ground_truth.csv
files: those become the answers (one row per epoch: tripId = "<drive>-<phone>",
UnixTimeMillis, LatitudeDegrees, LongitudeDegrees), in sorted path order.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_tree, require, write_csv
from mlepipe.preparers.splits import split_ids

ANSWER_COLUMNS = ["tripId", "UnixTimeMillis", "LatitudeDegrees", "LongitudeDegrees"]
# Kaggle's sample submission fills every row with this one position.
SAMPLE_POSITION = {"LatitudeDegrees": 37.904611315634504, "LongitudeDegrees": -86.48107806249548}


def drive_date(drive: str) -> str:
    """`2021-4-28-US-SJC-1` -> `2021-04-28`."""
    parts = drive.split("-")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]):
        raise PreparationError(
            f"train/{drive}: drive folders must be named YYYY-MM-DD-<area>-<n>; "
            "the download looks wrong"
        )
    year, month, day = parts[:3]
    return f"{year}-{month.zfill(2)}-{day.zfill(2)}"


def prepare(raw: Path, public: Path, private: Path) -> None:
    drives = sorted(p.name for p in require(raw / "train").iterdir() if p.is_dir())
    dates = sorted({drive_date(d) for d in drives})
    train_dates, test_dates = split_ids(dates, test_size=0.1, random_state=0)
    test_dates = set(test_dates.tolist())
    test_drives = [d for d in drives if drive_date(d) in test_dates]

    for drive in drives:
        if drive in test_drives:
            ignore = shutil.ignore_patterns("ground_truth.csv")
            shutil.copytree(raw / "train" / drive, public / "test" / drive, ignore=ignore)
        else:
            shutil.copytree(raw / "train" / drive, public / "train" / drive)

    truths = sorted(
        (p for d in test_drives for p in (raw / "train" / d).rglob("ground_truth.csv")),
        key=lambda p: p.relative_to(raw).parts,
    )
    frames = []
    for path in truths:
        frame = pd.read_csv(path)
        frame["tripId"] = f"{path.parent.parent.name}-{path.parent.name}"
        frames.append(frame[ANSWER_COLUMNS])
    if not frames:
        raise PreparationError("the test drives hold no ground_truth.csv; the download looks wrong")
    answers = pd.concat(frames, ignore_index=True)
    write_csv(answers, private / "test.csv")
    write_csv(answers.assign(**SAMPLE_POSITION), public / "sample_submission.csv")

    copy_tree(raw / "metadata", public / "metadata")
