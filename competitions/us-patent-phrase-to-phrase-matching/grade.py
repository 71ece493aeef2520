"""Pearson correlation of predicted and true similarity; constant predictions count as 0.

Constant predictions (the sample submission predicts 0 everywhere) have no correlation.
MLE-bench then reports a NaN score and still counts the submission as valid (it can earn no
medal); a correlation of 0 keeps that verdict while giving a number that can be compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGET = "score"


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec, targets=[TARGET])
    pred = sub[TARGET].to_numpy(dtype=float)
    if np.all(pred == pred[0]):
        return 0.0
    return get_metric(spec.metric).fn(ans[TARGET].to_numpy(dtype=float), pred)
