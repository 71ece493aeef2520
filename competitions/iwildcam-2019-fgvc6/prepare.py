"""Splits the labelled camera-trap images by camera location: 10% of the locations
(train_test_split of the unique locations, random_state 8) become the test set, so that no
location is in both sets.

The images are repacked, member by member, from Kaggle's train_images.zip into
public/train_images.zip and public/test_images.zip (flat `<id>.jpg` members). As in
MLE-bench's preparation, the sample submission is written with pandas' row index as a first,
unnamed column.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_members
from mlepipe.preparers.errors import PreparationError


def _missing(member: str) -> PreparationError:
    return PreparationError(f"train_images.zip has no member {member!r}")


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    locations = table["location"].unique()
    _, test_locations = train_test_split(locations, test_size=0.1, random_state=8)
    in_test = table["location"].isin(test_locations)
    train, answers = table[~in_test], table[in_test]
    test = answers.drop(columns=["category_id"])
    renamed = {"id": "Id", "category_id": "Category"}

    answers.to_csv(private / "test.csv", index=False)
    answers[["id", "category_id"]].rename(columns=renamed).to_csv(
        private / "answers.csv", index=False
    )
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    sample = test[["id"]].assign(category_id=0).rename(columns=renamed)
    sample.to_csv(public / "sample_submission.csv", index=True)

    with zipfile.ZipFile(raw / "train_images.zip") as zf:
        for frame, name in ((train, "train_images.zip"), (test, "test_images.zip")):
            members = [(f"{i}.jpg", f"{i}.jpg") for i in frame["id"]]
            zip_members(zf, public / name, members, missing=_missing)
