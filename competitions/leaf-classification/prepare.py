"""Splits the labelled leaves into a new train and test set, writes the test answers one-hot (one
column per species, the layout of a submission) and copies the images of both sets, byte for
byte, into public/images/.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError

N_SPECIES = 99


def _read_zipped_csv(archive: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(archive) as zf, zf.open(member) as f:
        return pd.read_csv(f)


def _one_hot(frame: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """`id` plus one 0/1 column per class, rows in the frame's order."""
    out = pd.DataFrame({"id": frame["id"].to_numpy()})
    species = frame["species"].to_numpy()
    for cls in classes:
        out[cls] = (species == cls).astype("int64")
    return out


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = _read_zipped_csv(raw / "train.csv.zip", "train.csv")
    # Every species occurs in the labelled data; the submission columns are them, sorted.
    classes = sorted(labelled["species"].unique())
    if len(classes) != N_SPECIES:
        raise PreparationError(
            f"{raw / 'train.csv.zip'} names {len(classes)} species, expected {N_SPECIES}; "
            "the download looks wrong, fetch it again"
        )
    train, test = train_test_split(labelled, test_size=0.1, random_state=0)
    answers = _one_hot(test, classes)
    sample = answers.copy()
    sample[classes] = 1 / len(classes)

    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["species"]).to_csv(public / "test.csv", index=False)
    answers.to_csv(private / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)

    images = public / "images"
    images.mkdir()
    with zipfile.ZipFile(raw / "images.zip") as zf:
        for ident in [*train["id"], *test["id"]]:
            name = f"{ident}.jpg"
            try:
                data = zf.read(f"images/{name}")
            except KeyError:
                raise PreparationError(
                    f"{raw / 'images.zip'} lacks images/{name}; the download is incomplete, "
                    "fetch it again"
                ) from None
            (images / name).write_bytes(data)
