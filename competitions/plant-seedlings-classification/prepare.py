"""Splits the labelled seedling photos (one folder per species) into a new train and test set.

The photos are listed species by species and file by file in sorted order, then split (14%,
random_state 0). Train photos are copied byte for byte into public/train/<species>/, test photos
into public/test/ (flat); private/answers.csv lists `file,species` of the test photos.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file


def _photos(folder: Path) -> pd.DataFrame:
    rows = [
        (name, species)
        for species in sorted(os.listdir(folder))
        if (folder / species).is_dir()
        for name in sorted(os.listdir(folder / species))
        if name.endswith(".png")
    ]
    if not rows:
        raise PreparationError(
            f"{folder} holds no <species>/<file>.png photos; the download looks wrong"
        )
    return pd.DataFrame(rows, columns=["file", "species"])


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = _photos(raw / "train")
    # The original test set had 794 photos beside 4,750 labelled ones: 14%.
    train, test = train_test_split(labelled, test_size=0.14, random_state=0)

    test.to_csv(private / "answers.csv", index=False)
    test.assign(species="Sugar beet").to_csv(public / "sample_submission.csv", index=False)
    (public / "test").mkdir()
    for name, species in train.itertuples(index=False):
        copy_file(raw / "train" / species / name, public / "train" / species / name)
    for name, species in test.itertuples(index=False):
        copy_file(raw / "train" / species / name, public / "test" / name)
