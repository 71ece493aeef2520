"""Mean over coupling types of log(MAE within the type), as the grading block declares it.

MLE-bench checks only that the submission holds the answers' set of ids, then merges it into
the answers on id, so each repeat of an id is one more scored row there (rule
`repeated-ids-scored`); here every id must be given once.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared
from mlepipe.metrics import get_metric

TARGET = "scalar_coupling_constant"


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if not variants.follows_mlebench(competition, "repeated-ids-scored"):
        return score_declared(submission, answers, spec)
    missing = [c for c in ("id", TARGET) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    if set(submission["id"]) != set(answers["id"]):
        raise InvalidSubmission("the submission's ids are not the answers' ids")
    merged = answers.merge(submission[["id", TARGET]], on="id", suffixes=("_true", "_pred"))
    predictions = pd.to_numeric(merged[f"{TARGET}_pred"], errors="coerce")
    if predictions.isna().any():
        raise InvalidSubmission(f"column '{TARGET}' has empty or non-numeric cells")
    return get_metric(spec.metric).fn(
        merged[f"{TARGET}_true"].to_numpy(dtype=float),
        predictions.to_numpy(dtype=float),
        groups=merged["type"].to_numpy(),
    )
