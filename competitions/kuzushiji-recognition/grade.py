"""F1 of labelled points inside same-label boxes; prediction strings split on any whitespace,
coordinates finite numbers.

The `mlebench` grading variant reads the strings as MLE-bench does: split on single spaces, so
that an empty token makes the string malformed (rule `points-split-on-single-spaces`), and with
nan or inf accepted as coordinates that fall inside no box (rule
`non-finite-point-matches-nothing`).
"""

from __future__ import annotations

import math

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared

TARGET = "labels"
# A label no box has: a point given it lies in no box, as a point at nan or inf does there.
NO_BOX_LABEL = "no-box"


def _check_single_spaces(cell: str) -> None:
    tokens = cell.split(" ")
    if len(tokens) % 3:
        raise InvalidSubmission(f"malformed prediction string {cell[:60]!r}")
    for coordinate in tokens[1::3] + tokens[2::3]:
        try:
            float(coordinate)
        except ValueError:
            raise InvalidSubmission(f"non-numeric coordinate in {cell[:60]!r}") from None


def _outside_every_box(cell: str) -> str:
    """The cell with each point at a non-finite coordinate moved to a label no box has."""
    tokens = cell.split()
    for i in range(0, len(tokens) - 2, 3):
        try:
            finite = math.isfinite(float(tokens[i + 1])) and math.isfinite(float(tokens[i + 2]))
        except ValueError:
            continue  # the metric refuses it
        if not finite:
            tokens[i : i + 3] = [NO_BOX_LABEL, "0", "0"]
    return " ".join(tokens)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    if TARGET in submission.columns:
        cells = submission[TARGET]
        written = cells.notna()
        if variants.follows_mlebench(competition, "points-split-on-single-spaces"):
            for cell in cells[written]:
                _check_single_spaces(str(cell))
        if variants.follows_mlebench(competition, "non-finite-point-matches-nothing"):
            moved = cells.where(~written, cells[written].astype(str).map(_outside_every_box))
            submission = submission.assign(**{TARGET: moved})
    return score_declared(submission, answers, GradingSpec.of(competition))
