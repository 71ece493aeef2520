"""RMSE of the predicted Pawpularity, which must lie between 1 and 100 as MLE-bench requires."""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

LOW, HIGH = 1, 100


def _check_range(submission: pd.DataFrame) -> None:
    values = submission["Pawpularity"]
    outside = values[(values < LOW) | (values > HIGH)]
    if len(outside):
        raise InvalidSubmission(
            f"Pawpularity must lie between {LOW} and {HIGH}; {len(outside)} row(s) do not "
            f"(e.g. {outside.iloc[0]:g})"
        )


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    sub, _ = align(submission, sample, GradingSpec.of(competition))
    _check_range(sub)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    _check_range(sub)
    return get_metric(spec.metric).fn(
        ans["Pawpularity"].to_numpy(), sub["Pawpularity"].to_numpy(), **spec.metric_params
    )
