"""Splits the labelled manuscript pages 90/10 into a new train and test set (train_test_split,
random_state 0) and repacks the page images, member by member, from Kaggle's
train_images.zip into public/train_images.zip and public/test_images.zip (flat `<id>.jpg`).

private/gold_submission.csv turns each true box `label x y w h` into the point
`label x+1 y+1`, which lies inside the box: a submission that scores perfectly.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_members
from mlepipe.preparers.errors import PreparationError

SAMPLE_GUESS = "U+003F 1 1 U+FF2F 2 2"


def _missing(member: str) -> PreparationError:
    return PreparationError(f"train_images.zip has no member {member!r}")


def box_corners_as_points(labels: object) -> str:
    """`label x y w h ...` -> `label x+1 y+1 ...`; an empty page stays empty."""
    if not isinstance(labels, str):
        return ""
    tokens = labels.split()
    return " ".join(
        f"{tokens[i]} {int(tokens[i + 1]) + 1} {int(tokens[i + 2]) + 1}"
        for i in range(0, len(tokens), 5)
    )


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    train, test = train_test_split(table, test_size=0.1, random_state=0)

    train.to_csv(public / "train.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    with zipfile.ZipFile(raw / "train_images.zip") as zf:
        for frame, name in ((train, "train_images.zip"), (test, "test_images.zip")):
            members = [(f"{i}.jpg", f"{i}.jpg") for i in frame["image_id"]]
            zip_members(zf, public / name, members, missing=_missing)
    shutil.copyfile(raw / "unicode_translation.csv", public / "unicode_translation.csv")

    test.assign(labels=SAMPLE_GUESS).to_csv(public / "sample_submission.csv", index=False)
    gold = test.assign(labels=[box_corners_as_points(v) for v in test["labels"]])
    gold.to_csv(private / "gold_submission.csv", index=False)
