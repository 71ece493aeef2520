"""Splits the labelled apple leaf photos into a new train and test set (10%, random_state 0).

Photos are renamed so that their name says which set they belong to: `Train_<i>` and `Test_<i>`,
numbered in split order. All of them are copied byte for byte into public/images/.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_file, read_csv

CLASSES = ["healthy", "multiple_diseases", "rust", "scab"]


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = read_csv(raw / "train.csv")
    train, test = train_test_split(labelled, test_size=0.1, random_state=0)
    new_ids = {old: f"Train_{i}" for i, old in enumerate(train["image_id"].unique())}
    new_ids.update({old: f"Test_{i}" for i, old in enumerate(test["image_id"].unique())})
    train = train.assign(image_id=train["image_id"].map(new_ids))
    answers = test.assign(image_id=test["image_id"].map(new_ids))

    answers.to_csv(private / "test.csv", index=False)
    answers[["image_id"]].assign(**dict.fromkeys(CLASSES, 0.25)).to_csv(
        public / "sample_submission.csv", index=False
    )
    answers[["image_id"]].to_csv(public / "test.csv", index=False)
    train.to_csv(public / "train.csv", index=False)
    for old in labelled["image_id"]:
        copy_file(raw / "images" / f"{old}.jpg", public / "images" / f"{new_ids[old]}.jpg")
