"""A 10% hold-out of whole molecules from train.csv.

Molecule names are sorted and split by sklearn's train_test_split(test_size=0.1,
random_state=0); each side lists its molecules in the shuffled order and each molecule's
coupling rows in their original order (the row order of MLE-bench's concatenated groups).
structures.csv and the .xyz files cover the molecules of both sides; the additional tables
(dipole moments, shielding tensors, charges, energies, coupling contributions) cover training
molecules only, as in the competition.

Tables of millions of rows are processed one at a time and written in blocks of rows, so memory
holds one copy of one table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.preparers.io import copy_files, extract_zip, read_csv, write_csv, write_rows
from mlepipe.preparers.splits import rows_in_group_order, split_ids

TARGET = "scalar_coupling_constant"
# Tables given for training molecules only; filtered to the new training molecules.
TRAIN_ONLY_TABLES = (
    "dipole_moments.csv",
    "magnetic_shielding_tensors.csv",
    "mulliken_charges.csv",
    "potential_energy.csv",
    "scalar_coupling_contributions.csv",
)


def _filter_table(src: Path, dst: Path, molecules: set[str]) -> None:
    table = read_csv(src)
    keep = np.flatnonzero(table["molecule_name"].isin(list(molecules)).to_numpy())
    write_rows(table, keep, dst)


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = read_csv(raw / "train.csv")
    names = table["molecule_name"]
    train_molecules, test_molecules = split_ids(
        sorted(names.unique()), test_size=0.1, random_state=0
    )
    train_rows = rows_in_group_order(names, train_molecules)
    test_rows = rows_in_group_order(names, test_molecules)
    write_rows(table, train_rows, public / "train.csv")
    write_rows(table, test_rows, private / "answers.csv")
    write_rows(table, test_rows, public / "test.csv", columns=[c for c in table if c != TARGET])
    ids = table["id"].to_numpy()[test_rows]
    write_csv(pd.DataFrame({"id": ids, TARGET: 0}), public / "sample_submission.csv")
    del table, names

    train_set = set(train_molecules.tolist())
    both = train_set | set(test_molecules.tolist())
    _filter_table(raw / "structures.csv", public / "structures.csv", both)
    for name in TRAIN_ONLY_TABLES:
        _filter_table(raw / name, public / name, train_set)

    if not (raw / "structures").is_dir() and (raw / "structures.zip").is_file():
        extract_zip(raw / "structures.zip", raw)
    copy_files(raw / "structures", public / "structures", [f"{m}.xyz" for m in sorted(both)])
