"""Splits the labelled radar images into a new train and test set (20%, random_state 0).

Kaggle ships train.json and test.json (lists of images: id, two 75 x 75 bands, incidence angle,
and is_iceberg in train only) inside 7-Zip archives. The new sets are written the same way:
public/train.json.7z and public/test.json.7z (the test images keep only the fields of Kaggle's
test images), and the sample submission as public/sample_submission.csv.7z; private/ gets the
answers and the sample submission unpacked. Needs the py7zr package.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import extract_7z, first_json_record, pack_7z


def _pack_json(records: list[dict], public: Path, name: str) -> None:
    path = public / name
    with open(path, "w") as f:
        json.dump(records, f)
    pack_7z(public / f"{name}.7z", path, arcname=name)
    path.unlink()


def prepare(raw: Path, public: Path, private: Path) -> None:
    extract_7z(raw / "train.json.7z", raw)
    extract_7z(raw / "test.json.7z", raw)
    processed = raw / "data" / "processed"
    with open(processed / "train.json") as f:
        labelled = json.load(f)
    # Only the field names of the (large) test file are needed: read its first image alone.
    test_fields = list(first_json_record(processed / "test.json"))
    if "is_iceberg" not in labelled[0] or any(f not in labelled[0] for f in test_fields):
        raise PreparationError(f"{processed} holds unexpected fields; the download looks wrong")

    # The original test set had 8,424 images beside 1,604 labelled ones; 20% keeps more to train on.
    train, test = train_test_split(labelled, test_size=0.2, random_state=0)
    _pack_json(train, public, "train.json")
    _pack_json([{k: image[k] for k in test_fields} for image in test], public, "test.json")

    answers = pd.DataFrame(
        {
            "id": [image["id"] for image in test],
            "is_iceberg": [int(image["is_iceberg"]) for image in test],
        }
    )
    answers.to_csv(private / "test.csv", index=False)
    answers.assign(is_iceberg=0.5).to_csv(private / "sample_submission.csv", index=False)
    pack_7z(
        public / "sample_submission.csv.7z",
        private / "sample_submission.csv",
        "sample_submission.csv",
    )
