"""Splits the labelled materials into a new train and test set, renumbers both from 1, and copies
each material's geometry file under its new id.

Only the labelled data are used: the original test set has no labels. Files are read straight
out of the nested zips; nothing is extracted to disk.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError

TARGETS = ["formation_energy_ev_natom", "bandgap_energy_ev"]
# Constant predictions of the sample submission (the original sample's values).
SAMPLE_VALUES = {"formation_energy_ev_natom": 0.1779, "bandgap_energy_ev": 1.8892}


def _read_zipped_csv(archive: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(archive) as zf, zf.open(member) as f:
        return pd.read_csv(f)


def _geometry_members(archive: zipfile.ZipFile) -> dict[int, str]:
    """Old id -> the geometry member to copy for it.

    One folder of the original download (757) holds a stray `tmp_geometry.xyz` beside
    `geometry.xyz`. MLE-bench copies every .xyz of a folder onto the same destination in sorted
    order, so the last name in sorted order wins; we keep that choice for identical data.
    """
    by_id: dict[int, list[str]] = defaultdict(list)
    for name in archive.namelist():
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "train" and parts[2].endswith(".xyz"):
            by_id[int(parts[1])].append(name)
    return {ident: sorted(names)[-1] for ident, names in by_id.items()}


def _renumber(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, int]]:
    """Ids become 1..n in the frame's (shuffled) order; returns the frame and old -> new ids."""
    mapping = {int(old): new for new, old in enumerate(frame["id"], start=1)}
    frame = frame.copy()
    frame["id"] = frame["id"].map(mapping)
    return frame, mapping


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = _read_zipped_csv(raw / "train.csv.zip", "train.csv")
    train, test = train_test_split(labelled, test_size=0.1, random_state=0)
    train, train_ids = _renumber(train)
    test, test_ids = _renumber(test)

    train.to_csv(public / "train.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    test.drop(columns=TARGETS).to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": test["id"], **SAMPLE_VALUES})
    sample.to_csv(public / "sample_submission.csv", index=False)

    with zipfile.ZipFile(raw / "train.zip") as zf:
        members = _geometry_members(zf)
        for part, mapping in (("train", train_ids), ("test", test_ids)):
            for old, new in mapping.items():
                if old not in members:
                    raise PreparationError(
                        f"{raw / 'train.zip'} has no geometry file for id {old}; "
                        "the download is incomplete, fetch it again"
                    )
                folder = public / part / str(new)
                folder.mkdir(parents=True)
                (folder / "geometry.xyz").write_bytes(zf.read(members[old]))
