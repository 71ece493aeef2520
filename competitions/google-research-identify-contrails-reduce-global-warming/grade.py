"""Global Dice coefficient of run-length encoded contrail masks.

Masks are decoded with each record's height and width from the answers; `-` marks an empty mask.
An empty cell is refused, as MLE-bench refuses it. The sample submission gives the same height
and width per record, so the validator reads the masks as the grader does.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align, check_predictions
from mlepipe.metrics import get_metric

TARGET = "encoded_pixels"


def _aligned(submission: pd.DataFrame, template: pd.DataFrame, spec: GradingSpec):
    sub, tmpl = align(submission, template, spec, targets=[TARGET])
    empty = sub[TARGET].isna()
    if empty.any():
        raise InvalidSubmission(
            f"{int(empty.sum())} row(s) have an empty {TARGET} cell; write '-' for a record "
            "without contrails"
        )
    return sub, tmpl


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = GradingSpec.of(competition)
    sub, sample = _aligned(submission, sample, spec)
    check_predictions(
        spec.metric,
        sub[TARGET].astype(str).tolist(),
        params={"height": sample["height"].tolist(), "width": sample["width"].tolist()},
    )


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = _aligned(submission, answers, spec)
    return get_metric(spec.metric).fn(
        ans[TARGET].tolist(),
        sub[TARGET].astype(str).tolist(),
        height=ans["height"].astype(int).tolist(),
        width=ans["width"].astype(int).tolist(),
        **spec.metric_params,
    )
