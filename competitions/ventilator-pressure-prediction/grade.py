"""Mean absolute error of the pressure over the inspiratory phase only.

Rows are paired by `id`; only the rows whose answer has `u_out == 0` (valve closed, air flowing
in) are scored, as in the competition. MLE-bench's configuration names this grader
"dice-hausdorff-combo", but what it computes is this MAE.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    inspiratory = (ans["u_out"] == 0).to_numpy()
    y_true = ans["pressure"].to_numpy(dtype=float)[inspiratory]
    y_pred = sub["pressure"].to_numpy(dtype=float)[inspiratory]
    return get_metric(spec.metric).fn(y_true, y_pred, **spec.metric_params)
