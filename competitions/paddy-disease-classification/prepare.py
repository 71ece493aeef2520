"""Splits the labelled paddy leaf photos into a new train (75%) and test (25%) set.

Train photos are copied byte for byte into public/train_images/<label>/, test photos into
public/test_images/ (flat). The sample submission leaves every label empty, as MLE-bench's does.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_file, read_csv


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = read_csv(raw / "train.csv")
    # The original split: 10,407 labelled and 3,469 test photos, 75% / 25%.
    train, test = train_test_split(labelled, train_size=0.75, random_state=0)

    train.to_csv(public / "train.csv", index=False)
    test[["image_id", "label"]].assign(label="").to_csv(
        public / "sample_submission.csv", index=False
    )
    test.to_csv(private / "test.csv", index=False)
    source = raw / "train_images"
    for image_id, label in zip(train["image_id"], train["label"], strict=True):
        copy_file(source / label / image_id, public / "train_images" / label / image_id)
    for image_id, label in zip(test["image_id"], test["label"], strict=True):
        copy_file(source / label / image_id, public / "test_images" / image_id)
