"""Mean column-wise ROC AUC over the scored comments only.

Test comments labelled -1 in every column were never scored. As in MLE-bench, they are dropped
before the predictions are read, so whatever a submission holds for them (even an empty cell)
does not matter; the scored rows must hold numbers. Which rows are scored is private, so the
validator asks for numbers in every row.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric


def _spec(competition) -> GradingSpec:
    # Cells are checked below, on the scored rows only.
    return replace(GradingSpec.of(competition), prediction="text")


def _as_numbers(predictions: pd.DataFrame, which_rows: str) -> pd.DataFrame:
    """Every column as numbers; `which_rows` ends the message of a refusal."""
    numbers = predictions.copy()
    for col in numbers.columns:
        values = pd.to_numeric(numbers[col], errors="coerce")
        if values.isna().any():
            raise InvalidSubmission(
                f"column '{col}' has {int(values.isna().sum())} empty or non-numeric cell(s)"
                + which_rows
            )
        numbers[col] = values
    return numbers


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = _spec(competition)
    targets = spec.targets(sample)
    sub, _ = align(submission, sample, spec, targets=targets)
    _as_numbers(sub[targets], "; every row needs a number (which rows are scored is private)")


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = _spec(competition)
    targets = spec.targets(answers)
    sub, ans = align(submission, answers, spec, targets=targets)
    scored = (ans[targets].sum(axis=1) >= 0).to_numpy()
    predictions = _as_numbers(sub.loc[scored, targets], " in scored rows")
    metric = get_metric(spec.metric)
    y_true = ans.loc[scored, targets].to_numpy(dtype=float)
    return metric.fn(y_true, predictions.to_numpy(dtype=float), **spec.metric_params)
