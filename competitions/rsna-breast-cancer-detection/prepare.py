"""Holds out 10% of the patients (random_state 42) as the test set.

Each test patient gets one prediction per breast: `prediction_id` = `<patient_id>_<laterality>`.
The public test table lists every test image with its prediction_id; the answers hold one row per
prediction_id (every image of a breast carries the same label). The mammograms (DICOM) are copied
unchanged to public/train_images/<patient_id>/ and public/test_images/<patient_id>/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.io import copy_file, read_csv, require_columns
from mlepipe.preparers.splits import split_ids

TEST_COLUMNS = [
    "site_id", "patient_id", "image_id", "laterality", "view", "age", "implant", "machine_id",
]  # fmt: skip


def _copy_images(raw: Path, dst: Path, images: pd.DataFrame) -> None:
    dst.mkdir(exist_ok=True)
    for patient, image_ids in images.groupby("patient_id", sort=False)["image_id"]:
        (dst / str(patient)).mkdir(exist_ok=True)
        for image in image_ids:
            name = f"{patient}/{image}.dcm"
            copy_file(raw / "train_images" / name, dst / name)


def prepare(raw: Path, public: Path, private: Path) -> None:
    images = read_csv(raw / "train.csv")
    require_columns(images, [*TEST_COLUMNS, "cancer"], "train.csv")
    train_ids, test_ids = split_ids(images["patient_id"].unique(), test_size=0.1, random_state=42)
    train = images[images["patient_id"].isin(train_ids)]
    test = images.loc[images["patient_id"].isin(test_ids), [*TEST_COLUMNS, "cancer"]].copy()
    test["prediction_id"] = test["patient_id"].astype(str) + "_" + test["laterality"]

    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["cancer"]).to_csv(public / "test.csv", index=False)

    answers = test.groupby("prediction_id")["cancer"].first().reset_index()
    answers.to_csv(private / "answers.csv", index=False)
    answers.assign(cancer=train["cancer"].mean()).to_csv(
        public / "sample_submission.csv", index=False
    )

    _copy_images(raw, public / "train_images", train)
    _copy_images(raw, public / "test_images", test)
