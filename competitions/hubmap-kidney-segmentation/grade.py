"""Mean Dice coefficient of run-length encoded kidney glomerulus masks.

The answers hold the true mask as `encoding` and each image's size; submissions name their mask
column `predicted`. An empty cell is an empty mask.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGET = "predicted"


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    align(submission, sample, GradingSpec.of(competition), targets=[TARGET])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    template = answers.rename(columns={"encoding": TARGET})
    sub, ans = align(submission, template, spec, targets=[TARGET])
    return get_metric(spec.metric).fn(
        ans[TARGET].tolist(),
        sub[TARGET].tolist(),
        height=ans["height_pixels"].tolist(),
        width=ans["width_pixels"].tolist(),
        **spec.metric_params,
    )
