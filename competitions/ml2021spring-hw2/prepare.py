"""A hold-out of the labelled frames of train_11.npy, as large a share as Kaggle's own test set.

The held-out share is len(test_11) / (len(train_11) + len(test_11)) (about 0.268); frame
indices are split by sklearn's train_test_split(random_state=0). The feature arrays (about
1.2 million frames x 429 float32 values, 2 GB) are memory-mapped and written a block of frames
at a time into new .npy files, never loaded whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import require, write_csv

FOLDER = Path("timit_11") / "timit_11"
BLOCK_ROWS = 100_000


def take_rows(src: np.ndarray, rows: np.ndarray, dst: Path) -> None:
    """Writes `src[rows]` to the .npy file `dst` (the bytes np.save would write), a block of
    rows at a time."""
    out = np.lib.format.open_memmap(
        dst, mode="w+", dtype=src.dtype, shape=(len(rows), *src.shape[1:])
    )
    for start in range(0, len(rows), BLOCK_ROWS):
        out[start : start + BLOCK_ROWS] = src[rows[start : start + BLOCK_ROWS]]
    out.flush()
    del out


def prepare(raw: Path, public: Path, private: Path) -> None:
    features = np.load(require(raw / FOLDER / "train_11.npy"), mmap_mode="r")
    labels = np.load(require(raw / FOLDER / "train_label_11.npy"))
    n_test_old = np.load(require(raw / FOLDER / "test_11.npy"), mmap_mode="r").shape[0]
    if len(labels) != len(features):
        raise PreparationError(
            f"train_11.npy has {len(features)} frames but train_label_11.npy {len(labels)} labels"
        )
    share = n_test_old / (len(features) + n_test_old)
    train_rows, test_rows = train_test_split(
        np.arange(len(features)), test_size=share, random_state=0
    )

    out = public / FOLDER
    out.mkdir(parents=True)
    take_rows(features, train_rows, out / "train_11.npy")
    np.save(out / "train_label_11.npy", labels[train_rows])
    take_rows(features, test_rows, out / "test_11.npy")

    answers = pd.DataFrame({"Id": range(len(test_rows)), "ClassId": labels[test_rows]})
    write_csv(answers.assign(ClassId=0), public / "sampleSubmission.csv")
    write_csv(answers, private / "answers.csv")
