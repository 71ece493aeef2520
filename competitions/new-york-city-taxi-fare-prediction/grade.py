"""RMSE of the fare, rows paired by key.

MLE-bench sorts both files by key and pairs the rows by position, never comparing the keys; the
`mlebench` grading variant does so too (rule `rows-by-sorted-key`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, align, pair_by_position
from mlepipe.grading.scoring import score_aligned


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "rows-by-sorted-key"):
        sub, ans = pair_by_position(submission, answers, spec, sort_by="key")
    else:
        sub, ans = align(submission, answers, spec)
    return score_aligned(sub, ans, spec)
