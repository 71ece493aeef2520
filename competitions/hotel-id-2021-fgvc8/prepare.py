"""Splits the labelled hotel-room photos 90/10 into a new train and test set
(train_test_split, random_state 0).

Photos are copied byte for byte: train photos keep Kaggle's layout
`train_images/<chain>/<image>`; test photos go flat into `test_images/<image>`, so that the
folder does not reveal the chain. The answers keep every column of Kaggle's train.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files

# Listed twice in Kaggle's train.csv: dropped so that it cannot end up in both train and test.
DUPLICATED_IMAGE = "ce27d36c9147cc19.jpg"
SAMPLE_GUESS = "36363 53586 18807 64314 60181"


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    table = table[table["image"] != DUPLICATED_IMAGE]
    train, test = train_test_split(table, test_size=0.1, random_state=0)

    train.to_csv(public / "train.csv", index=False)
    test[["image", "hotel_id"]].assign(hotel_id=SAMPLE_GUESS).to_csv(
        public / "sample_submission.csv", index=False
    )
    test.to_csv(private / "test.csv", index=False)

    def paths(frame: pd.DataFrame) -> list[str]:
        return [
            f"{chain}/{image}" for chain, image in zip(frame["chain"], frame["image"], strict=True)
        ]

    copy_files(raw / "train_images", public / "train_images", paths(train))
    (public / "test_images").mkdir()
    copy_files(raw / "train_images", public / "test_images", paths(test), dst_names=test["image"])
