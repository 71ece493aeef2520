"""Splits the labelled aerial images into a new train and test set and packs each set's images
into public/train.zip and public/test.zip (flat: the zip members are the bare file names).

Images are copied byte for byte from the original archive, never decoded. The new test set keeps
the original proportion of test images (4000 unlabelled to 17500 labelled, hence 19%).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_members
from mlepipe.preparers.errors import PreparationError


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = pd.read_csv(raw / "train.csv")
    train, test = train_test_split(labelled, test_size=0.19, random_state=0)

    train.to_csv(public / "train.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    sample = test.copy()
    sample["has_cactus"] = 0.5
    sample.to_csv(public / "sample_submission.csv", index=False)

    archive = raw / "train.zip"

    def missing(member: str) -> PreparationError:
        return PreparationError(
            f"{archive} lacks {member}; the download is incomplete, fetch it again"
        )

    # Members keep their original dates, so the same input gives the same zips.
    with zipfile.ZipFile(archive) as zf:
        for frame, dest in ((train, "train.zip"), (test, "test.zip")):
            members = [(f"train/{name}", name) for name in frame["id"]]
            zip_members(zf, public / dest, members, missing=missing)
