"""Modified Laplace log-likelihood over each test patient's last three visits.

The submission predicts an FVC and a confidence for every Patient_Week of the answers (each test
patient, every week in the test range). Only the rows of the three latest measured visits of each
patient are scored; the other rows must be present but are otherwise ignored, so an empty FVC is
accepted there. Which rows are scored is private, so the validator asks for an FVC in every row.
An empty Confidence counts as 0, which the metric raises to its floor of 70.

In the mlebench grading variant, rows are paired as MLE-bench pairs them (rule
`scored-weeks-only`) and empty or infinite values are scored as its formula takes them (rule
`non-finite-values-scored`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

KEY = "Patient_Week"
TARGETS = ["FVC", "Confidence"]


def _aligned(submission: pd.DataFrame, template: pd.DataFrame, competition) -> pd.DataFrame:
    # Cells are checked here rather than by align(): empty cells are allowed in some rows.
    spec = dataclasses.replace(GradingSpec.of(competition), prediction="text")
    sub, _ = align(submission, template, spec, targets=TARGETS)
    sub = sub.copy()
    for col in TARGETS:
        values = pd.to_numeric(sub[col], errors="coerce")
        bad = sub[col][values.isna() & sub[col].notna()]
        if len(bad):
            raise InvalidSubmission(
                f"column '{col}' must hold numbers; found {bad.iloc[0]!r} "
                f"({len(bad)} non-numeric cell(s))"
            )
        sub[col] = values.astype(float)
    sub["Confidence"] = sub["Confidence"].fillna(0.0)
    return sub


def scored_rows(answers: pd.DataFrame) -> pd.Series:
    """True for the rows of each patient's three latest weeks that have a measured FVC."""
    measured = answers[answers["FVC"].notna()]
    latest = measured.sort_values("Weeks").groupby("Patient").tail(3)
    return answers.index.isin(latest.index)


def _require_fvc(sub: pd.DataFrame, rows: str, hint: str = "") -> None:
    empty = sub["FVC"].isna()
    if empty.any():
        raise InvalidSubmission(
            f"{int(empty.sum())} {rows} have no FVC, e.g. {sub.loc[empty, KEY].iloc[0]!r}{hint}"
        )


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    sub = _aligned(submission, sample, competition)
    _require_fvc(sub, "row(s)", "; every row needs one (which rows are scored is private)")


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    answers = answers.reset_index(drop=True)
    if variants.follows_mlebench(competition, "scored-weeks-only"):
        sub, ans = _paired_as_mlebench(submission, answers)
    else:
        sub = _aligned(submission, answers, competition)
        keep = scored_rows(answers)
        sub, ans = sub[keep], answers[keep]
    spec = GradingSpec.of(competition)
    y_true = ans["FVC"].to_numpy(dtype=float)
    y_pred = np.column_stack([sub["FVC"].to_numpy(), sub["Confidence"].to_numpy()])
    if variants.follows_mlebench(competition, "non-finite-values-scored"):
        # MLE-bench's formula takes NaN and infinities as they come (NaN stays NaN, an infinite
        # error is capped, an infinite sigma gives -inf).
        with np.errstate(all="ignore"):
            sigma = np.maximum(y_pred[:, 1], spec.metric_params.get("sigma_min", 70.0))
            error = np.minimum(
                np.abs(y_true - y_pred[:, 0]), spec.metric_params.get("error_max", 1000.0)
            )
            return float(np.mean(-np.sqrt(2) * error / sigma - np.log(np.sqrt(2) * sigma)))
    _require_fvc(sub, "scored row(s)")
    metric = get_metric(spec.metric)
    return metric.fn(y_true, y_pred, **spec.metric_params)


def _paired_as_mlebench(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows as MLE-bench pairs them: every submitted Patient_Week must exist; only the
    scored weeks the submission gives are scored, both sides sorted by Patient_Week and paired
    by position. Rows of unscored weeks may be left out or repeated; a scored week left out is
    not scored; one repeated leaves the two sides of different lengths, which fails."""
    missing = [c for c in (KEY, *TARGETS) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    unknown = ~submission[KEY].isin(answers[KEY])
    if unknown.any():
        raise InvalidSubmission(f"unknown Patient_Week {submission.loc[unknown, KEY].iloc[0]!r}")
    for col in TARGETS:
        if not pd.api.types.is_numeric_dtype(submission[col]):
            raise InvalidSubmission(f"column '{col}' must hold numbers")
    sub = submission.assign(Confidence=submission["Confidence"].fillna(0.0))
    ans = answers[scored_rows(answers)]
    sub = sub[sub[KEY].isin(ans[KEY])].sort_values(KEY)
    ans = ans[ans[KEY].isin(sub[KEY])].sort_values(KEY)
    if len(sub) != len(ans):
        raise InvalidSubmission("a scored Patient_Week is repeated")
    return sub.reset_index(drop=True), ans.reset_index(drop=True)
