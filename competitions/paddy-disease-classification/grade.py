"""Accuracy of the predicted disease labels, where an empty label counts as a wrong answer.

MLE-bench reads an empty cell as an empty label (its own sample submission is all empty) rather
than refusing the submission; so does this grader.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    predicted = sub["label"].astype(object).where(sub["label"].notna(), "")
    return get_metric(spec.metric).fn(
        ans["label"].to_numpy(), predicted.to_numpy(), **spec.metric_params
    )
