"""Holds out 20% of the labelled images (random_state 0) as the test set.

Images live in three levels of folders named after the first three characters of their id
(`train/0/0/0/000011a64c74.png`); they are copied unchanged into the same layout under
public/train/ and public/test/.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_file, read_csv, require_columns

PLACEHOLDER = "InChI=1S/H2O/h1H2"


def image_path(image_id: str) -> str:
    return f"{image_id[0]}/{image_id[1]}/{image_id[2]}/{image_id}.png"


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train_labels.csv")
    require_columns(labels, ["image_id", "InChI"], "train_labels.csv")
    train, test = train_test_split(labels, test_size=0.2, random_state=0)
    train.to_csv(public / "train_labels.csv", index=False)
    test.to_csv(private / "test.csv", index=False)

    for part, frame in (("train", train), ("test", test)):
        for image_id in frame["image_id"].astype(str):
            name = image_path(image_id)
            copy_file(raw / "train" / name, public / part / name)

    test.assign(InChI=PLACEHOLDER).to_csv(public / "sample_submission.csv", index=False)
    copy_file(raw / "extra_approved_InChIs.csv", public / "extra_approved_InChIs.csv")
