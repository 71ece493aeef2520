"""Splits the labelled studies 90/10 into a new train and test set (train_test_split,
random_state 0); each study's images follow their study, and each study folder
(`<study>/<series>/<image>.dcm`) is copied byte for byte into public/train/ or public/test/.

The answers hold one row per test study (`<label> 1 0 0 1 1`, the label being the study's
class) followed by one row per test image (Kaggle's `label` column: `opacity <confidence> <box>`
groups, or `none 1 0 0 1 1`), both sorted by id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError

# study classes, in the column order of train_study_level.csv
STUDY_LABELS = ["negative", "typical", "indeterminate", "atypical"]
FULL_IMAGE = "1 0 0 1 1"


def copy_studies(src: Path, dst: Path, study_ids: pd.Series) -> None:
    dst.mkdir()
    for study in study_ids.str.replace("_study", "", regex=False):
        if not (src / study).is_dir():
            raise PreparationError(f"{src / study} is missing; the raw data look incomplete")
        shutil.copytree(src / study, dst / study, copy_function=shutil.copyfile)


def prepare(raw: Path, public: Path, private: Path) -> None:
    studies = pd.read_csv(raw / "train_study_level.csv")
    train_studies, test_studies = train_test_split(studies, test_size=0.1, random_state=0)
    train_studies = train_studies.sort_values(by="id")
    test_studies = test_studies.sort_values(by="id")
    train_studies.to_csv(public / "train_study_level.csv", index=False)

    images = pd.read_csv(raw / "train_image_level.csv")
    study_of_image = images["StudyInstanceUID"] + "_study"
    train_images = images[study_of_image.isin(train_studies["id"])].sort_values(by="id")
    test_images = images[study_of_image.isin(test_studies["id"])].sort_values(by="id")
    train_images.to_csv(public / "train_image_level.csv", index=False)

    copy_studies(raw / "train", public / "train", train_studies["id"])
    copy_studies(raw / "train", public / "test", test_studies["id"])

    classes = np.asarray(STUDY_LABELS)[test_studies.iloc[:, 1:5].to_numpy().argmax(axis=1)]
    ids = pd.concat([test_studies["id"], test_images["id"]], ignore_index=True)
    answers = pd.DataFrame(
        {
            "id": ids,
            "PredictionString": [f"{c} {FULL_IMAGE}" for c in classes] + list(test_images["label"]),
        }
    )
    answers.to_csv(private / "test.csv", index=False)
    guesses = [f"negative {FULL_IMAGE}"] * len(test_studies) + [f"none {FULL_IMAGE}"] * len(
        test_images
    )
    pd.DataFrame({"id": ids, "PredictionString": guesses}).to_csv(
        public / "sample_submission.csv", index=False
    )
