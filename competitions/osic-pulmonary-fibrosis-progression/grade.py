"""Modified Laplace log-likelihood over each test patient's last three visits.

The submission predicts an FVC and a confidence for every Patient_Week of the answers (each test
patient, every week in the test range). Only the rows of the three latest measured visits of each
patient are scored; the other rows must be present but are otherwise ignored, so an empty FVC is
accepted there. Which rows are scored is private, so the validator asks for an FVC in every row.
An empty Confidence counts as 0, which the metric raises to its floor of 70.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

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
    sub = _aligned(submission, answers, competition)
    keep = scored_rows(answers)
    sub, ans = sub[keep], answers[keep]
    _require_fvc(sub, "scored row(s)")
    spec = GradingSpec.of(competition)
    metric = get_metric(spec.metric)
    y_pred = np.column_stack([sub["FVC"].to_numpy(), sub["Confidence"].to_numpy()])
    return metric.fn(ans["FVC"].to_numpy(dtype=float), y_pred, **spec.metric_params)
