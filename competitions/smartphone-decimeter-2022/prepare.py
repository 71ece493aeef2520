"""A hold-out of whole recording days of the training drives.

Training drives are named `YYYY-MM-DD-<area>-<n>`; their distinct dates are sorted and split by
sklearn's train_test_split(test_size=0.1, random_state=0), and each drive goes with its date.
Drive folders are copied as they are, except that test drives lose their ground_truth.csv
files: those become the answers (one row per epoch: tripId = "<drive>-<phone>",
UnixTimeMillis, LatitudeDegrees, LongitudeDegrees), in sorted path order.

MLE-bench reads the ground truth with pandas' default float parser (not the round-trip one its
other preparations use). Under pandas 2, with which its checksums were made, that parser rounds
about a quarter of the 17-digit coordinates to a neighbouring float, and the answers are written
with that last digit. pandas 3 parses exactly, so the coordinates are read as text here and
converted the way pandas 2's parser does (`pandas2_float`), for MLE-bench's bytes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_tree, require, write_csv
from mlepipe.preparers.splits import split_ids

ANSWER_COLUMNS = ["tripId", "UnixTimeMillis", "LatitudeDegrees", "LongitudeDegrees"]
# Kaggle's sample submission fills every row with this one position.
SAMPLE_POSITION = {"LatitudeDegrees": 37.904611315634504, "LongitudeDegrees": -86.48107806249548}
COORDINATES = ["LatitudeDegrees", "LongitudeDegrees"]

# pandas 2's default C float parser (precise_xstrtod): at most 17 significant digits gathered
# into a double one by one, then one multiplication or division by a power of ten.
_NUMBER = re.compile(r"\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*")
_POWERS = [float(f"1e{k}") for k in range(309)]
_MAX_DIGITS = 17


def pandas2_float(text: str) -> float:
    """The float pandas 2's read_csv gives for `text` by default (float_precision=None)."""
    match = _NUMBER.fullmatch(text)
    if match is None or not (match.group(2) or match.group(3)):
        raise PreparationError(f"ground_truth.csv: {text!r} is not a number")
    sign, whole, fraction, exp = match.groups()
    number, digits, exponent = 0.0, 0, 0
    for ch in whole:
        if digits < _MAX_DIGITS:
            number = number * 10.0 + (ord(ch) - 48)
            digits += 1
        else:
            exponent += 1
    for ch in (fraction or "")[: max(0, _MAX_DIGITS - digits)]:
        number = number * 10.0 + (ord(ch) - 48)
        exponent -= 1
    if sign == "-":
        number = -number
    if exp:
        n = int(exp.lstrip("+-")[:_MAX_DIGITS])
        exponent += -n if exp.startswith("-") else n
    if exponent > 308:
        return float("inf") if number > 0 else float("-inf")
    if exponent > 0:
        return number * _POWERS[exponent]
    if exponent < -616:
        return 0.0
    if exponent < -308:
        return number / _POWERS[-308 - exponent] / _POWERS[308]
    return number / _POWERS[-exponent]


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
        frame = pd.read_csv(path, dtype=dict.fromkeys(COORDINATES, str))
        for column in COORDINATES:  # a missing value stays missing, as pandas reads it
            frame[column] = [
                pandas2_float(v) if isinstance(v, str) else np.nan for v in frame[column]
            ]
        frame["tripId"] = f"{path.parent.parent.name}-{path.parent.name}"
        frames.append(frame[ANSWER_COLUMNS])
    if not frames:
        raise PreparationError("the test drives hold no ground_truth.csv; the download looks wrong")
    answers = pd.concat(frames, ignore_index=True)
    write_csv(answers, private / "test.csv")
    write_csv(answers.assign(**SAMPLE_POSITION), public / "sample_submission.csv")

    copy_tree(raw / "metadata", public / "metadata")
