"""Submissions with one scored column changed, for the differential test of `mlepipe validate`
against the grader (tests/test_competition_contracts.py) and for the record of the grader's
verdicts (tests/grader_verdicts.py).

A mutation turns a cell into another: `make(cell) -> new cell`. GENERIC mutations apply to every
competition; REFUSED cells are those a competition's metric (or grade.py) cannot read, so both
the validator and the grader must refuse a submission holding one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Mutation = Callable[[Any], Any]

GENERIC: dict[str, Mutation] = {
    "a text cell": lambda cell: "zz-not-a-label",
    "an empty cell": lambda cell: np.nan,
}

# Run-length encoded masks: "start length" pairs, starts 1-based and sorted.
_RLE: dict[str, Mutation] = {
    "an RLE with a non-integer": lambda cell: "1 2 x 4",
    "an RLE with a comma separator": lambda cell: "1,2",
    "an odd-length RLE": lambda cell: "1 2 5",
    "a negative RLE start": lambda cell: "-3 2",
    "a zero RLE start": lambda cell: "0 2",
    "a zero RLE length": lambda cell: "1 0",
    "unsorted RLE starts": lambda cell: "5 1 1 1",
    "overlapping RLE runs": lambda cell: "1 3 2 1",
}


def _items(cell: Any) -> list[str]:
    return str(cell).split() if isinstance(cell, str) else []


REFUSED: dict[str, dict[str, Mutation]] = {
    "dice_mean": _RLE,
    "dice_global": _RLE,
    "iou_threshold_precision_mean": _RLE,
    "fbeta_mask_mean": _RLE,
    "dice_hausdorff_combo": _RLE,
    # "label confidence x_min y_min x_max y_max" per object
    "map_boxes_voc": {
        "a box with a missing number": lambda cell: "opacity 0.5 0 0 1",
        "a box with a non-number": lambda cell: "opacity 0.5 0 0 1 x",
        "a box with a NaN": lambda cell: "opacity 0.5 0 0 nan 1",
        "a comma-separated box": lambda cell: "opacity,0.5,0,0,1,1",
    },
    # "class_id confidence x_min y_min x_max y_max" per box
    "map_boxes_coco": {
        "a box with a missing number": lambda cell: "0 0.5 1 1 2",
        "a box with a non-number": lambda cell: "0 0.5 1 1 2 x",
        "a box with an infinite confidence": lambda cell: "0 inf 1 1 2 2",
    },
    # "confidence x y z width length height yaw class_name" per box
    "map_boxes_3d": {
        "a box without its class": lambda cell: "0.5 1 1 1 2 2 2 0",
        "a box with a non-number": lambda cell: "0.5 1 1 x 2 2 2 0 car",
        "a box of zero width": lambda cell: "0.5 1 1 1 0 2 2 0 car",
    },
    # "label x y" per point
    "f1_point_in_box": {
        "a point with a missing number": lambda cell: "U+003F 1",
        "a point with a non-number": lambda cell: "U+003F 1 x",
    },
    # space-separated integers
    "levenshtein_per_token": {
        "a comma-separated sequence": lambda cell: "1,2,3",
        "a sequence with a word": lambda cell: "1 two 3",
        "a sequence with a fraction": lambda cell: "1 2.5",
    },
    # an ordering of exactly the notebook's cells
    "kendall_tau_orderings": {
        "an ordering missing a cell": lambda cell: " ".join(_items(cell)[:-1]),
        "an ordering with an unknown cell": lambda cell: " ".join([*_items(cell), "zz"]),
        "an ordering with a cell twice": lambda cell: " ".join(
            [*_items(cell)[:-1], *_items(cell)[:1]]
        ),
    },
    "top_1_error": {"a class name": lambda cell: "cat"},
}

REFUSED_IN_COMPETITION: dict[str, dict[str, Mutation]] = {
    # "start:end" token indices, YES, NO or blank
    "tensorflow2-question-answering": {
        "a span with a dash": lambda cell: "12-15",
        "a span of three numbers": lambda cell: "1:2:3",
        "a lower-case yes": lambda cell: "yes",
    },
}


def refused(competition) -> dict[str, Mutation]:
    """The cells that `competition`'s metric or grade.py cannot read, by name."""
    return {
        **REFUSED.get(competition.metric_name, {}),
        **REFUSED_IN_COMPETITION.get(competition.id, {}),
    }


def mutate(frame: pd.DataFrame, column: str, rows: str, make: Mutation) -> pd.DataFrame:
    """`frame` with `make` applied to `column` in the first row ("one") or in every row
    ("all")."""
    out = frame.astype({column: object})
    where = out.index[:1] if rows == "one" else out.index
    out.loc[where, column] = [make(cell) for cell in out.loc[where, column]]
    return out
