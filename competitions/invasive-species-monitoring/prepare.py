"""Splits the labelled forest photos into a new train and test set (20%, random_state 0) and
packs public/ as Kaggle shipped it: train.7z and test.7z (folders `train/` and `test/` of
`<name>.jpg`), train_labels.csv.zip and sample_submission.csv.zip. The sample submission is
also kept, unzipped, in private/ for grading checks.

Reading and writing .7z archives needs the py7zr package. Photos are copied byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_files
from mlepipe.preparers.io import copy_files, extract_7z, pack_7z, read_csv


def prepare(raw: Path, public: Path, private: Path) -> None:
    extract_7z(raw / "train.7z", raw)
    labelled = read_csv(raw / "train_labels.csv.zip")
    # The original test set had 1,531 photos beside 2,295 labelled ones; 20% keeps more to train on.
    train, test = train_test_split(labelled, test_size=0.2, random_state=0)
    sample = test.assign(invasive=0.5)

    test.to_csv(private / "answers.csv", index=False)
    sample.to_csv(private / "sample_submission.csv", index=False)
    train.to_csv(public / "train_labels.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    for name in ("train_labels.csv", "sample_submission.csv"):
        zip_files(public / f"{name}.zip", [(public / name, name)])
        (public / name).unlink()

    for part, frame in (("train", train), ("test", test)):
        copy_files(raw / "train", public / part, (f"{n}.jpg" for n in frame["name"]))
        pack_7z(public / f"{part}.7z", public / part, arcname=part)
        shutil.rmtree(public / part)
