"""Splits the labelled fluke photos into a new train and test set in which every whale with two
or more photos appears on both sides.

For each whale (in order of first appearance): with two or more photos, two of them drawn by
`DataFrame.sample(2, random_state=0)` go one to train and one to test; with a single photo, a
numpy Generator seeded 0 sends it to test with probability 0.1. The remaining photos are split
90/10 by train_test_split(random_state=0). A test whale with no train photo becomes `new_whale`.
Photos are copied byte for byte into public/train/ and public/test/.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files

TEST_SHARE = 0.1
SAMPLE_GUESS = "new_whale w_1287fbc w_98baff9 w_7554f44 w_1eafe46"


def assign_splits(table: pd.DataFrame) -> pd.Series:
    """'train' or 'test' for every row of `table` (columns Image, Id)."""
    split = pd.Series("undecided", index=table.index, dtype=object)
    rng = np.random.default_rng(0)
    for _, photos in table.groupby("Id", sort=False):
        if len(photos) >= 2:
            picked = photos.sample(2, random_state=0).index
            split[picked[0]], split[picked[1]] = "train", "test"
        else:
            split[photos.index[0]] = rng.choice(
                ["train", "test"], replace=False, p=[1 - TEST_SHARE, TEST_SHARE]
            )
    rest = table[split == "undecided"]
    train, test = train_test_split(rest, test_size=TEST_SHARE, random_state=0)
    split[train.index] = "train"
    split[test.index] = "test"
    return split


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    split = assign_splits(table)
    train = table[split == "train"]
    answers = table[split == "test"].copy()
    answers.loc[~answers["Id"].isin(set(train["Id"])), "Id"] = "new_whale"

    answers.to_csv(private / "test.csv", index=False)
    train.to_csv(public / "train.csv", index=False)
    answers.assign(Id=SAMPLE_GUESS).to_csv(public / "sample_submission.csv", index=False)

    copy_files(raw / "train", public / "train", train["Image"])
    copy_files(raw / "train", public / "test", answers["Image"])
