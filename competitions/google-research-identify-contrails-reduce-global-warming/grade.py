"""Global Dice coefficient of run-length encoded contrail masks.

Masks are decoded with each record's height and width from the answers; `-` marks an empty mask.
An empty cell is refused, as MLE-bench refuses it. The sample submission gives the same height
and width per record, so the validator reads the masks as the grader does.

When no mask of answers or submission holds a pixel, the Dice is 1 here; MLE-bench reports NaN,
as the `mlebench` grading variant does (rule `all-empty-dice-is-nan`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align, check_predictions
from mlepipe.metrics import get_metric

TARGET = "encoded_pixels"


def _aligned(submission: pd.DataFrame, template: pd.DataFrame, spec: GradingSpec):
    sub, tmpl = align(submission, template, spec, targets=[TARGET])
    empty = sub[TARGET].isna()
    if empty.any():
        raise InvalidSubmission(
            f"{int(empty.sum())} row(s) have an empty {TARGET} cell; write '-' for a record "
            "without contrails"
        )
    return sub, tmpl


def _no_pixel(cells) -> bool:
    """Whether no run-length encoded mask of `cells` (already read by the metric) holds a pixel."""
    return all(str(c).strip() == "-" or not sum(map(int, str(c).split()[1::2])) for c in cells)


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = GradingSpec.of(competition)
    sub, sample = _aligned(submission, sample, spec)
    check_predictions(
        spec.metric,
        sub[TARGET].astype(str).tolist(),
        params={"height": sample["height"].tolist(), "width": sample["width"].tolist()},
    )


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = _aligned(submission, answers, spec)
    value = get_metric(spec.metric).fn(
        ans[TARGET].tolist(),
        sub[TARGET].astype(str).tolist(),
        height=ans["height"].astype(int).tolist(),
        width=ans["width"].astype(int).tolist(),
        **spec.metric_params,
    )
    if variants.follows_mlebench(competition, "all-empty-dice-is-nan") and (
        _no_pixel(ans[TARGET]) and _no_pixel(sub[TARGET])
    ):
        return float("nan")
    return value
