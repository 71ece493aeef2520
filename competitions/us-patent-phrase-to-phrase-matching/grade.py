"""Pearson correlation of predicted and true similarity; constant predictions count as 0.

Constant predictions (the sample submission predicts 0 everywhere) have no correlation.
MLE-bench then reports a NaN score and still counts the submission as valid (it can earn no
medal); a correlation of 0 keeps that verdict while giving a number that can be compared. The
`mlebench` grading variant gives MLE-bench's NaN, for an empty or infinite cell too (rule
`undefined-correlation-is-nan`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGET = "score"


def _undefined(values: pd.Series) -> pd.Series:
    """Cells that make MLE-bench's correlation NaN: empty, or a number that is infinite."""
    if pd.api.types.is_numeric_dtype(values):
        return ~np.isfinite(values.astype(float))
    return values.isna()


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    undefined_is_nan = variants.follows_mlebench(competition, "undefined-correlation-is-nan")
    blank = undefined_is_nan and TARGET in submission and bool(_undefined(submission[TARGET]).any())
    if blank:  # filled only to pass the checks of everything else; the score is NaN
        submission = submission.assign(**{TARGET: submission[TARGET].mask(_undefined, 0.0)})
    sub, ans = align(submission, answers, spec, targets=[TARGET])
    pred = sub[TARGET].to_numpy(dtype=float)
    if blank or np.all(pred == pred[0]):
        return float("nan") if undefined_is_nan else 0.0
    return get_metric(spec.metric).fn(ans[TARGET].to_numpy(dtype=float), pred)
