"""The competition's own split: the public files are Kaggle's download as it is, and the answers
are the labels of the test clips, published after the competition in FSDKaggle2019's metadata
(zenodo record 3612637).

The metadata archive is not part of the Kaggle download. It is read from
raw/FSDKaggle2019.meta.zip when present (stage it there by hand on a machine without internet
access), else downloaded into raw/ first.
"""

from __future__ import annotations

import shutil
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import read_csv, write_csv

META_URL = "https://zenodo.org/records/3612637/files/FSDKaggle2019.meta.zip?download=1"
META_ZIP = "FSDKaggle2019.meta.zip"
META_TABLE = "FSDKaggle2019.meta/test_post_competition.csv"


def _metadata(raw: Path) -> Path:
    archive = raw / META_ZIP
    if archive.is_file():
        return archive
    partial = archive.with_suffix(".partial")
    try:
        with urllib.request.urlopen(META_URL, timeout=60) as response, open(partial, "wb") as f:
            shutil.copyfileobj(response, f, 1 << 20)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PreparationError(
            f"could not download the test labels ({exc}); download {META_URL} yourself, save "
            f"it as {archive} and prepare again"
        ) from None
    partial.rename(archive)
    return archive


def _test_labels(archive: Path) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(archive) as meta, meta.open(META_TABLE) as f:
            return pd.read_csv(f)
    except (KeyError, zipfile.BadZipFile):
        raise PreparationError(
            f"{archive} is not the FSDKaggle2019 metadata archive (no {META_TABLE} in it); "
            "delete it and prepare again"
        ) from None


def prepare(raw: Path, public: Path, private: Path) -> None:
    # Everything Kaggle ships goes to public/ unchanged (zips stay zipped).
    for item in sorted(raw.iterdir()):
        if "FSDKaggle2019.meta" in item.name:
            continue
        if item.is_dir():
            shutil.copytree(item, public / item.name)
        else:
            shutil.copyfile(item, public / item.name)

    labels = _test_labels(_metadata(raw))
    sample = read_csv(public / "sample_submission.csv")
    classes = list(sample.columns[1:])

    private_rows = labels[labels["usage"] == "Private"]
    answers = pd.DataFrame({"fname": private_rows["fname"].to_numpy()})
    tags = [set(text.split(",")) for text in private_rows["labels"]]
    for cls in classes:
        answers[cls] = [int(cls in row) for row in tags]
    if sorted(answers["fname"]) != sorted(sample["fname"]):
        raise PreparationError(
            "the private test clips of the metadata are not the clips of sample_submission.csv; "
            "the download or the metadata archive looks wrong"
        )
    write_csv(answers, private / "test.csv")
