"""The unintended-bias score, with MLE-bench's reading of a submission.

MLE-bench accepts the prediction column under the name `prediction` or `toxicity` (so that the
answers file itself can be graded), counts an empty prediction as 0, and turns predictions,
targets and identity values into 0/1 at 0.5 before computing the AUCs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

ID = "id"
PREDICTION = "prediction"
TARGET = "toxicity"
IDENTITIES = [
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
]


def _predictions(submission: pd.DataFrame) -> pd.DataFrame:
    """The submission's id and prediction columns, predictions as numbers (empty -> 0)."""
    column = PREDICTION if PREDICTION in submission.columns else TARGET
    if column not in submission.columns:
        raise InvalidSubmission(f"missing column '{PREDICTION}'; expected columns [id, prediction]")
    if ID not in submission.columns:
        raise InvalidSubmission(f"missing column '{ID}'; expected columns [id, prediction]")
    values = submission[column]
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if len(bad):
        shown = bad.iloc[:3].tolist()
        raise InvalidSubmission(f"column '{column}' has non-numeric value(s) {shown}")
    return pd.DataFrame({ID: submission[ID], PREDICTION: numbers.fillna(0.0)})


def _spec(competition) -> GradingSpec:
    # Cells are converted above; align() only checks columns, rows and ids.
    return replace(GradingSpec.of(competition), prediction="text")


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    align(_predictions(submission), sample, _spec(competition), targets=[PREDICTION])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(_predictions(submission), answers, _spec(competition), targets=[PREDICTION])
    y_true = ans[[TARGET, *IDENTITIES]].to_numpy(dtype=float)
    # Only the side of 0.5 a prediction falls on counts, so infinities may be clipped.
    y_pred = np.clip(sub[PREDICTION].to_numpy(dtype=float), -1.0, 2.0)
    return get_metric(spec.metric).fn(y_true, y_pred, **spec.metric_params)
