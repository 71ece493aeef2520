"""MCRMSE: the mean over the three scored targets of each target's RMSE, over scored positions.

Rows are paired by `id_seqpos`. Only positions whose answer has `keep` True (the measured first
`seq_scored` positions of each sequence) are scored, and only `reactivity`, `deg_Mg_pH10` and
`deg_Mg_50C`; `deg_pH10` and `deg_50C` must still be present, as the competition required.

MLE-bench selects the scored rows of the submission by its original row order instead, so rows
in another order than the answers' are scored against the wrong rows; the `mlebench` grading
variant does so too (rule `scored-rows-by-row-label`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

ID = "id_seqpos"
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
    if variants.follows_mlebench(competition, "scored-rows-by-row-label"):
        return get_metric(spec.metric).fn(*_by_row_label(submission, answers, targets))
    return get_metric(spec.metric).fn(
        ans[targets].to_numpy(dtype=float)[keep], sub[targets].to_numpy(dtype=float)[keep]
    )


def _by_row_label(submission: pd.DataFrame, answers: pd.DataFrame, targets: list[str]):
    """MLE-bench's pairing (ids already checked): both files sorted by id; the submission's
    rows kept are those whose original row number holds `keep` True in the answers."""
    keep_at = answers["keep"].astype(bool).to_numpy()
    sub_order = np.argsort(submission[ID].astype(str).to_numpy(), kind="stable")
    ans_order = np.argsort(answers[ID].astype(str).to_numpy(), kind="stable")
    pred = submission[targets].apply(pd.to_numeric).to_numpy(dtype=float)
    truth = answers[targets].to_numpy(dtype=float)
    return truth[ans_order[keep_at[ans_order]]], pred[sub_order[keep_at[sub_order]]]
