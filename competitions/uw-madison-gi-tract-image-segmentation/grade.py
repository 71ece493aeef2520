"""0.4 x mean Dice + 0.6 x (1 - mean 3-D Hausdorff distance) of GI tract masks.

Rows are one (slice, organ class) each, matched to the answers by `id` and `class`. The answers
give each slice's image size for decoding the run-length encoded masks; an empty cell is an
empty mask.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

TARGET = "predicted"


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec, targets=[TARGET])
    return get_metric(spec.metric).fn(
        ans[TARGET].tolist(),
        sub[TARGET].tolist(),
        ids=ans["id"].astype(str).tolist(),
        height=ans["image_height"].astype(int).tolist(),
        width=ans["image_width"].astype(int).tolist(),
        **spec.metric_params,
    )
