"""Holds out 25% of the labelled images (random_state 0) as the test set.

The labelled images, their masks and train.csv sit inside the nested `competition_data.zip`; they
are read from it directly (PNG bytes streamed, never decoded). Tables are sorted by id. Only the
training images' depths are published.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import extract_member, read_csv, require_columns

ARCHIVE = "competition_data.zip"
FOLDER = "competition_data"


def _labels(zf: zipfile.ZipFile) -> pd.DataFrame:
    try:
        with zf.open(f"{FOLDER}/train.csv") as f:
            table = pd.read_csv(f)
    except KeyError:
        raise PreparationError(
            f"{ARCHIVE} has no {FOLDER}/train.csv; the download looks incomplete"
        ) from None
    require_columns(table, ["id", "rle_mask"], f"{ARCHIVE}:{FOLDER}/train.csv")
    return table.fillna("")  # images without salt have an empty mask


def prepare(raw: Path, public: Path, private: Path) -> None:
    if not (raw / ARCHIVE).is_file():
        raise PreparationError(f"{raw / ARCHIVE} is missing; the download looks incomplete")
    with zipfile.ZipFile(raw / ARCHIVE) as zf:
        labels = _labels(zf)
        train, test = train_test_split(labels, test_size=0.25, random_state=0)
        train.sort_values(by="id").to_csv(public / "train.csv", index=False)
        test.sort_values(by="id").to_csv(private / "test.csv", index=False)
        sample = test.drop(columns=["rle_mask"]).assign(rle_mask="1 1")
        sample.sort_values(by="id").to_csv(public / "sample_submission.csv", index=False)

        for image in train["id"]:
            for kind in ("images", "masks"):
                member = f"{FOLDER}/train/{kind}/{image}.png"
                extract_member(zf, member, public / "train" / kind / f"{image}.png")
        for image in test["id"]:
            member = f"{FOLDER}/train/images/{image}.png"
            extract_member(zf, member, public / "test" / "images" / f"{image}.png")

    depths = read_csv(raw / "depths.csv")
    require_columns(depths, ["id"], "depths.csv")
    depths = depths[depths["id"].isin(set(train["id"]))]
    depths.sort_values(by="id").to_csv(public / "depths.csv", index=False)
