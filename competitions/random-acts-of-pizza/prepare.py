"""Holds out part of Kaggle's labelled requests as the test set.

The held-out share equals Kaggle's own test share (test / (train + test) requests). Held-out
requests keep only the fields Kaggle's test.json has: those known when the request was posted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_files

ID = "request_id"
TARGET = "requester_received_pizza"


def _load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def _dump(records: list[dict], path: Path) -> None:
    # json's defaults (ASCII escapes, 4-space indent, no trailing newline) give MLE-bench's bytes
    with path.open("w", encoding="utf-8", newline="\n") as f:
        json.dump(records, f, indent=4)


def _zip_beside(path: Path) -> None:
    """`train.json` -> `train.zip` holding it, as Kaggle also ships the data zipped (fixed
    timestamps, so the same input gives the same bytes)."""
    zip_files(path.with_suffix(".zip"), [(path, path.name)])


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = _load(raw / "train.json")
    unlabelled = _load(raw / "test.json")
    test_fields = list(unlabelled[0])
    for name, records, fields in (
        ("train.json", labelled, set(labelled[0])),
        ("test.json", unlabelled, set(test_fields)),
    ):
        if any(set(r) != fields for r in records):
            raise ValueError(f"{raw / name}: requests do not all have the same fields")

    test_share = len(unlabelled) / (len(labelled) + len(unlabelled))
    train, test = train_test_split(labelled, test_size=test_share, random_state=0)

    _dump(train, public / "train.json")
    _dump([{k: r[k] for k in test_fields} for r in test], public / "test.json")
    _zip_beside(public / "train.json")
    _zip_beside(public / "test.json")

    answers = pd.DataFrame({ID: [r[ID] for r in test], TARGET: [int(r[TARGET]) for r in test]})
    answers.to_csv(private / "test.csv", index=False, lineterminator="\n")
    sample = answers.assign(**{TARGET: 0})
    sample.to_csv(public / "sampleSubmission.csv", index=False, lineterminator="\n")
