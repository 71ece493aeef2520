"""Dice and Hausdorff combined, as the grading block declares it: rows matched by (id, class).

MLE-bench pairs submission and answer rows by position instead, decoding each predicted mask
with the size of the answer row at its position, and groups the predicted masks into volumes
by the submission's own ids (rule `rows-paired-by-position`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared
from mlepipe.metrics import get_metric


def _case_days(ids: pd.Series) -> set[str]:
    return {str(i).split("_slice_")[0] for i in ids}


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if not variants.follows_mlebench(competition, "rows-paired-by-position"):
        return score_declared(submission, answers, spec)
    missing = [c for c in ("id", "class", "predicted") if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    # Beyond these, MLE-bench would pair a shorter file's rows with the first answers, or fail.
    if len(submission) != len(answers):
        raise InvalidSubmission(f"submission has {len(submission)} rows, expected {len(answers)}")
    if _case_days(submission["id"]) != _case_days(answers["id"]):
        raise InvalidSubmission("the submission's case/days are not the answers'")
    try:
        return get_metric(spec.metric).fn(
            answers["predicted"].fillna("").tolist(),
            submission["predicted"].fillna("").astype(str).tolist(),
            ids=answers["id"].tolist(),
            pred_ids=submission["id"].tolist(),
            height=answers["image_height"].to_numpy(),
            width=answers["image_width"].to_numpy(),
            **spec.metric_params,
        )
    except ValueError as exc:
        # Masks of different sizes in one slice or volume: MLE-bench's numpy calls fail there.
        raise InvalidSubmission(f"masks paired by position do not fit together: {exc}") from None
