"""Top-1 error of the first class id of each prediction; an integral number written as `3.0`
counts as class 3.

MLE-bench reads each prediction with int(), which refuses a float or the text `3.0`; the
`mlebench` grading variant refuses them too (rule `class-ids-read-by-int`).
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_integer_dtype

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared

TARGET = "predicted"


def _readable_by_int(values: pd.Series) -> None:
    if is_integer_dtype(values):
        return
    for value in values:
        words = value.split() if isinstance(value, str) else None
        try:
            int(words[0])
        except (TypeError, IndexError, ValueError):
            raise InvalidSubmission(
                f"column {TARGET!r} must hold integer class ids, got {value!r}"
            ) from None


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    if TARGET in submission.columns and variants.follows_mlebench(
        competition, "class-ids-read-by-int"
    ):
        _readable_by_int(submission[TARGET])
    return score_declared(submission, answers, GradingSpec.of(competition))
