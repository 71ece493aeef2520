"""Mean column-wise Spearman correlation; a constant prediction column counts as 0.

A constant column has no rank correlation. MLE-bench then reports a NaN score and still counts
the submission as valid (it can earn no medal); a correlation of 0 keeps that verdict while
giving a number that can be compared. The `mlebench` grading variant gives MLE-bench's NaN, for
an empty cell too (rule `undefined-correlation-is-nan`), and pairs the rows by position after
sorting by qa_id, as MLE-bench does (rule `rows-by-sorted-id`). MLE-bench also ranks a column
holding text or an infinite value as it reads it, where such cells are refused here (rule
`cells-ranked-as-read`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, align, pair_by_position
from mlepipe.metrics import get_metric

ID = "qa_id"


def _as_read(values: pd.Series) -> np.ndarray:
    """A column as MLE-bench ranks it: numbers, or text where any cell is not a number."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    return values.astype(str).to_numpy()


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    targets = spec.targets(answers)
    undefined_is_nan = variants.follows_mlebench(competition, "undefined-correlation-is-nan")
    present = [c for c in targets if c in submission.columns]
    blank = undefined_is_nan and bool(submission[present].isna().any().any())
    if blank:  # filled only to pass the checks of everything else; the score is NaN
        submission = submission.fillna({c: 0.0 for c in present})
    elif variants.follows_mlebench(competition, "cells-ranked-as-read"):
        # Each column's ranks (ties averaged) have its Spearman correlation, and are numbers.
        submission = submission.assign(**{c: rankdata(_as_read(submission[c])) for c in present})
    if variants.follows_mlebench(competition, "rows-by-sorted-id"):
        sub, ans = pair_by_position(submission, answers, spec, sort_by=ID, targets=targets)
    else:
        sub, ans = align(submission, answers, spec, targets=targets)
    if blank:
        return float("nan")
    metric = get_metric(spec.metric)
    values = []
    for col in targets:
        pred = sub[col].to_numpy(dtype=float)
        if np.all(pred == pred[0]):
            if undefined_is_nan:
                return float("nan")
            values.append(0.0)
        else:
            values.append(metric.fn(ans[col].to_numpy(dtype=float), pred, **spec.metric_params))
    return float(np.mean(values))
