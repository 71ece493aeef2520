"""Splits the labelled tissue patches into a new train and test set.

The test share is the share of Kaggle's own unlabelled test set in all its patches (about 21%),
with random_state 0; both sets keep the rows in the order of train_labels.csv. The patches
(TIFF) are copied byte for byte into public/train/ and public/test/.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_files, read_csv


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = read_csv(raw / "train_labels.csv")
    n_unlabelled = sum(1 for _ in (raw / "test").glob("*.tif"))
    if n_unlabelled == 0:
        raise PreparationError(
            f"{raw / 'test'} holds no .tif patches; the download looks incomplete"
        )
    test_ratio = n_unlabelled / (len(labelled) + n_unlabelled)
    train_ids, test_ids = train_test_split(labelled["id"], test_size=test_ratio, random_state=0)
    train = labelled[labelled["id"].isin(train_ids)]
    test = labelled[labelled["id"].isin(test_ids)]

    train.to_csv(public / "train_labels.csv", index=False)
    test.to_csv(private / "answers.csv", index=False)
    test.assign(label=0).to_csv(public / "sample_submission.csv", index=False)
    copy_files(raw / "train", public / "train", (f"{i}.tif" for i in train_ids))
    copy_files(raw / "train", public / "test", (f"{i}.tif" for i in test_ids))
