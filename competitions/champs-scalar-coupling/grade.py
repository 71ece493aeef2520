"""Mean over coupling types of log(MAE within the type).

Rows are paired by `id`; each row's coupling type comes from the answers' `type` column. A type
predicted exactly contributes log(0) = -inf, so a perfect submission scores -inf.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    target = spec.targets(answers)[0]
    return get_metric(spec.metric).fn(
        ans[target].to_numpy(dtype=float),
        sub[target].to_numpy(dtype=float),
        groups=ans["type"].to_numpy(),
    )
