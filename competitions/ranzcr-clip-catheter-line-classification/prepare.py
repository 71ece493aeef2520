"""Splits the labelled chest X-rays into a new train and test set (10%, random_state 0).

public/train_annotations.csv keeps the annotations of the train images only; the sample
submission has one column per class, all 0. Images are copied byte for byte into public/train/
and public/test/ (Kaggle's TFRecord copies of the images are not used).
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files, read_csv

CLASSES = [
    "ETT - Abnormal",
    "ETT - Borderline",
    "ETT - Normal",
    "NGT - Abnormal",
    "NGT - Borderline",
    "NGT - Incompletely Imaged",
    "NGT - Normal",
    "CVC - Abnormal",
    "CVC - Borderline",
    "CVC - Normal",
    "Swan Ganz Catheter Present",
]


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = read_csv(raw / "train.csv")
    train, test = train_test_split(labelled, test_size=0.1, random_state=0)
    annotations = read_csv(raw / "train_annotations.csv")
    annotations = annotations[annotations["StudyInstanceUID"].isin(train["StudyInstanceUID"])]

    copy_files(raw / "train", public / "train", (f"{u}.jpg" for u in train["StudyInstanceUID"]))
    copy_files(raw / "train", public / "test", (f"{u}.jpg" for u in test["StudyInstanceUID"]))
    sample = test[["StudyInstanceUID"]].assign(**dict.fromkeys(CLASSES, 0))

    train.to_csv(public / "train.csv", index=False)
    annotations.to_csv(public / "train_annotations.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
