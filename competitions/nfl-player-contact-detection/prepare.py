"""Holds out 10% of the labelled plays (random_state 0) as the test set.

A play (`game_play`) is the unit of the split, so the contact labels, helmet boxes, player
tracking and video metadata of a play all land on the same side. Each table is read once and
written back as a train_* and a test_* file; the three videos of each play (All29, Endzone,
Sideline views) are copied unchanged to public/train/ or public/test/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.io import copy_file, read_csv, require_columns, write_rows
from mlepipe.preparers.splits import split_ids

TABLES = ["baseline_helmets", "player_tracking", "video_metadata"]
VIEWS = ["All29", "Endzone", "Sideline"]


def _split_table(raw: Path, public: Path, name: str, test_plays: set[str]) -> None:
    table = read_csv(raw / f"train_{name}.csv")
    require_columns(table, ["game_play"], f"train_{name}.csv")
    in_test = table["game_play"].isin(test_plays).to_numpy()
    write_rows(table, ~in_test, public / f"train_{name}.csv")
    write_rows(table, in_test, public / f"test_{name}.csv")


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train_labels.csv")
    require_columns(labels, ["contact_id", "game_play", "contact"], "train_labels.csv")
    plays = labels["game_play"].unique()
    train_plays, test_plays = split_ids(plays, test_size=0.1, random_state=0)
    in_test = labels["game_play"].isin(test_plays).to_numpy()

    write_rows(labels, ~in_test, public / "train_labels.csv")
    write_rows(labels, in_test, private / "test.csv")
    pd.DataFrame({"contact_id": labels.loc[in_test, "contact_id"], "contact": 0}).to_csv(
        public / "sample_submission.csv", index=False
    )
    del labels

    for name in TABLES:
        _split_table(raw, public, name, set(test_plays))

    for part, names in (("train", train_plays), ("test", test_plays)):
        (public / part).mkdir(exist_ok=True)
        for play in names:
            for view in VIEWS:
                video = f"{play}_{view}.mp4"
                copy_file(raw / "train" / video, public / part / video)
