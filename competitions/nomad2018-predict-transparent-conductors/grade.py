"""Mean RMSLE of the two targets, rows paired by id.

MLE-bench pairs the rows by position without reading the ids; the `mlebench` grading variant
does so too (rule `rows-by-position`). Its scikit-learn refuses negative predictions, which are
scored here down to -1 (rule `negative-predictions-refused`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align, pair_by_position
from mlepipe.grading.scoring import score_aligned


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "rows-by-position"):
        sub, ans = pair_by_position(submission, answers, spec)
    else:
        sub, ans = align(submission, answers, spec)
    if variants.follows_mlebench(competition, "negative-predictions-refused"):
        negative = (sub[list(spec.target_columns)] < 0).to_numpy().sum()
        if negative:
            raise InvalidSubmission(f"{negative} negative prediction(s): RMSLE refuses them")
    return score_aligned(sub, ans, spec)
