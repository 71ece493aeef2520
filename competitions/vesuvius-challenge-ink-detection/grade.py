"""Mean per-fragment F0.5 score of run-length encoded ink masks.

Vesuvius masks are encoded row by row (pixel 2 is to the right of pixel 1); the score counts
pixels, so the order matters only for which pixels a run covers. Each fragment's width and height
come from the answers (so the validator reads the runs without cutting them to the fragment). An
empty cell is refused, as MLE-bench refuses it.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align, check_predictions
from mlepipe.metrics import get_metric

TARGET = "Predicted"


def _aligned(submission: pd.DataFrame, template: pd.DataFrame, spec: GradingSpec):
    sub, tmpl = align(submission, template, spec, targets=[TARGET])
    if sub[TARGET].isna().any():
        raise InvalidSubmission(f"every {TARGET} cell must hold a run-length encoding")
    return sub, tmpl


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = GradingSpec.of(competition)
    sub, _ = _aligned(submission, sample, spec)
    check_predictions(spec.metric, sub[TARGET].astype(str).tolist())


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    # The answers' width and height are no submission columns; compare against Id/Predicted.
    sub, ans = _aligned(submission, answers[["Id", TARGET]], spec)
    sizes = answers.set_index(answers["Id"].astype(str)).loc[ans["Id"].astype(str)]
    return get_metric(spec.metric).fn(
        ans[TARGET].tolist(),
        sub[TARGET].astype(str).tolist(),
        height=sizes["height"].astype(int).tolist(),
        width=sizes["width"].astype(int).tolist(),
        **spec.metric_params,
    )
