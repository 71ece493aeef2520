"""Mean over trips of the average of the 50th and 95th percentile horizontal error (metres).

Rows are paired by (tripId, UnixTimeMillis): every epoch of the answers must be predicted once.
Distances are haversine distances on a sphere of radius 6,371 km.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    targets = spec.targets(answers)
    return get_metric(spec.metric).fn(
        ans[targets].to_numpy(dtype=float),
        sub[targets].to_numpy(dtype=float),
        groups=ans["tripId"].astype(str).to_numpy(),
    )
