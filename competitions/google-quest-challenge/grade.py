"""Mean column-wise Spearman correlation; a constant prediction column counts as 0.

A constant column has no rank correlation. MLE-bench then reports a NaN score and still counts
the submission as valid (it can earn no medal); a correlation of 0 keeps that verdict while
giving a number that can be compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    targets = spec.targets(answers)
    sub, ans = align(submission, answers, spec, targets=targets)
    metric = get_metric(spec.metric)
    values = []
    for col in targets:
        pred = sub[col].to_numpy(dtype=float)
        if np.all(pred == pred[0]):
            values.append(0.0)
        else:
            values.append(metric.fn(ans[col].to_numpy(dtype=float), pred, **spec.metric_params))
    return float(np.mean(values))
