"""training4.tar.gz becomes the test set; the other training and validation archives stay.

The ids of the test samples are those of the `Sample<nnnnn>.zip` archives in training4.tar.gz
(their last four digits), read from the tar's member list without extracting it. Their rows of
training.csv become the answers. Archives are copied byte for byte; randomPredictions.csv gets
one random permutation of the 20 gesture ids per test sample (Python's random, seed 0).
"""

from __future__ import annotations

import random
import tarfile
from pathlib import Path, PurePosixPath

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, read_csv, require, write_csv

N_GESTURES = 20
KEPT_ARCHIVES = (
    "training1.tar.gz",
    "training2.tar.gz",
    "training3.tar.gz",
    "validation1.tar.gz",
    "validation2.tar.gz",
    "validation3.tar.gz",
    "devel01-40.7z",
    "valid_all_files_combined.7z",
    "sample_code_mmrgc.zip",
)


def sample_ids(archive: Path) -> list[str]:
    """Sorted ids of the `Sample*.zip` files at the top of a tar archive (`Sample00300.zip` ->
    `0300`)."""
    try:
        with tarfile.open(require(archive)) as tar:
            names = [PurePosixPath(m.name) for m in tar if m.isfile()]
    except tarfile.TarError as exc:
        raise PreparationError(f"{archive} is not a readable tar archive ({exc})") from None
    top = [p for p in names if len(p.parts) == 1 and p.suffix == ".zip"]
    return sorted(p.stem[-4:] for p in top)


def prepare(raw: Path, public: Path, private: Path) -> None:
    test_ids = sample_ids(raw / "training4.tar.gz")
    if not test_ids:
        raise PreparationError("training4.tar.gz holds no Sample*.zip; the download looks wrong")
    labels = read_csv(raw / "training.csv", dtype={"Id": str, "Sequence": str})
    is_test = labels["Id"].isin(test_ids)
    write_csv(labels[~is_test], public / "training.csv")
    write_csv(labels[is_test], private / "test.csv")
    write_csv(pd.DataFrame({"Id": test_ids}), public / "test.csv")

    rng = random.Random(0)
    guesses = [
        " ".join(str(g) for g in rng.sample(range(1, N_GESTURES + 1), N_GESTURES)) for _ in test_ids
    ]
    write_csv(pd.DataFrame({"Id": test_ids, "Sequence": guesses}), public / "randomPredictions.csv")

    copy_file(raw / "training4.tar.gz", public / "test.tar.gz")
    for name in KEPT_ARCHIVES:
        copy_file(raw / name, public / name)
