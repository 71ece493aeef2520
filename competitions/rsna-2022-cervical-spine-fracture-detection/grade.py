"""Weighted multi-label log loss per study.

Submissions have one row per (study, target) pair, `row_id` = `<StudyInstanceUID>_<target>`.
Rows are matched to the answers by row_id, then regrouped into one row per study with the eight
targets in a fixed order, which is what the metric's per-target weights refer to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGETS = ["patient_overall", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]


def _by_study(values: np.ndarray, answers: pd.DataFrame) -> np.ndarray:
    """(studies x 8) matrix of `values`, which are aligned with the rows of `answers`."""
    table = pd.DataFrame(
        {
            "study": answers["StudyInstanceUID"].to_numpy(),
            "target": answers["prediction_type"].to_numpy(),
            "value": values,
        }
    )
    wide = table.pivot(index="study", columns="target", values="value")
    return wide[TARGETS].to_numpy(dtype=float)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    y_true = _by_study(ans["fractured"].to_numpy(dtype=float), ans)
    y_pred = _by_study(sub["fractured"].to_numpy(dtype=float), ans)
    return get_metric(spec.metric).fn(y_true, y_pred, **spec.metric_params)
