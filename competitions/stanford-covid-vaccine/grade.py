"""MCRMSE: the mean over the three scored targets of each target's RMSE, over scored positions.

Rows are paired by `id_seqpos`. Only positions whose answer has `keep` True (the measured first
`seq_scored` positions of each sequence) are scored, and only `reactivity`, `deg_Mg_pH10` and
`deg_Mg_50C`; `deg_pH10` and `deg_50C` must still be present, as the competition required.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

UNSCORED_REQUIRED = ["deg_pH10", "deg_50C"]


def _require_unscored(submission: pd.DataFrame) -> None:
    missing = [c for c in UNSCORED_REQUIRED if c not in submission.columns]
    if missing:
        raise InvalidSubmission(
            f"missing column(s) {missing}: they are not scored but must be present, as in the "
            "sample submission"
        )


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    _require_unscored(submission)
    spec = GradingSpec.of(competition)
    align(submission, sample, spec, targets=list(spec.target_columns))


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    _require_unscored(submission)
    spec = GradingSpec.of(competition)
    targets = list(spec.target_columns)
    sub, ans = align(submission, answers, spec, targets=targets)
    keep = ans["keep"].astype(bool).to_numpy()
    return get_metric(spec.metric).fn(
        ans[targets].to_numpy(dtype=float)[keep], sub[targets].to_numpy(dtype=float)[keep]
    )
