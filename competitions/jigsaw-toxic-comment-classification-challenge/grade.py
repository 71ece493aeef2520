"""Mean column-wise ROC AUC over the scored comments only.

Test comments labelled -1 in every column were never scored. As in MLE-bench, they are dropped
before the predictions are read, so whatever a submission holds for them (even an empty cell)
does not matter; the scored rows must hold numbers.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric


def _spec(competition) -> GradingSpec:
    # Cells are checked below, on the scored rows only.
    return replace(GradingSpec.of(competition), prediction="text")


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    align(submission, sample, _spec(competition))


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = _spec(competition)
    targets = spec.targets(answers)
    sub, ans = align(submission, answers, spec, targets=targets)
    scored = (ans[targets].sum(axis=1) >= 0).to_numpy()
    predictions = sub.loc[scored, targets]
    for col in targets:
        values = pd.to_numeric(predictions[col], errors="coerce")
        if values.isna().any():
            raise InvalidSubmission(
                f"column '{col}' has {int(values.isna().sum())} empty or non-numeric cell(s) "
                "in scored rows"
            )
        predictions[col] = values
    metric = get_metric(spec.metric)
    y_true = ans.loc[scored, targets].to_numpy(dtype=float)
    return metric.fn(y_true, predictions.to_numpy(dtype=float), **spec.metric_params)
