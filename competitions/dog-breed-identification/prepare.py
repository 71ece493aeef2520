"""Splits the labelled dog photos into a new train and test set (10%, random_state 0).

public/labels.csv keeps the train rows (`id,breed`); private/test.csv holds the test rows
one-hot (`id` + one 0/1 column per breed, the layout of a submission); the sample submission
gives every breed 1/120. The photos are copied byte for byte into public/train/ and public/test/.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.images import one_hot
from mlepipe.preparers.io import copy_files, read_csv

N_BREEDS = 120


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "labels.csv")
    # The breeds are the columns of Kaggle's own sample submission, in alphabetical order.
    breeds = sorted(read_csv(raw / "sample_submission.csv", nrows=0).columns.drop("id"))
    if len(breeds) != N_BREEDS:
        raise PreparationError(
            f"{raw / 'sample_submission.csv'} names {len(breeds)} breeds, expected {N_BREEDS}; "
            "the download looks wrong, fetch it again"
        )
    train, test = train_test_split(labels, test_size=0.1, random_state=0)
    answers = one_hot(test, "id", "breed", breeds)
    sample = answers.copy()
    sample[breeds] = 1 / N_BREEDS

    train.to_csv(public / "labels.csv", index=False)
    answers.to_csv(private / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    copy_files(raw / "train", public / "train", (f"{i}.jpg" for i in train["id"]))
    copy_files(raw / "train", public / "test", (f"{i}.jpg" for i in test["id"]))
