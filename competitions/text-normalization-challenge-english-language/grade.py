"""Token accuracy with MLE-bench's reading of the cells: each value as text, missing -> "nan".

MLE-bench compares `astype(str)` of both columns under pandas 2, where a missing cell becomes
the string "nan"; this is spelled out here so that the result does not depend on the pandas
version (pandas 3 keeps missing values missing).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGET = "after"


def as_text(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.StringDtype):  # already text: no per-cell str() needed
        return values.fillna("nan").to_numpy(dtype=object)
    return values.astype(object).where(values.notna(), "nan").map(str).to_numpy(dtype=object)


def _spec(competition) -> GradingSpec:
    return replace(GradingSpec.of(competition), prediction="text")


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    align(submission, sample, _spec(competition), targets=[TARGET])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    sub, ans = align(submission, answers, _spec(competition), targets=[TARGET])
    metric = get_metric(competition.metric_name)
    return metric.fn(as_text(ans[TARGET]), as_text(sub[TARGET]))
