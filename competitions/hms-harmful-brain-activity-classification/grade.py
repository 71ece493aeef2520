"""KL divergence between the experts' vote distribution and the predicted probabilities.

The answers hold one row per labelled window, identified only by `eeg_id`, and an EEG usually
has several windows. The k-th row of an `eeg_id` in the submission is paired with its k-th row
in the answers, which is the pairing MLE-bench gets for a submission in the sample
submission's row order (it sorts both files by eeg_id and pairs by position). Votes are divided
by their row sum; predictions are clipped to [1e-15, 1 - 1e-15].
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

ID = "eeg_id"
OCCURRENCE = "occurrence of eeg_id"


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    if ID not in frame.columns:
        raise InvalidSubmission(f"missing column '{ID}'")
    return frame.assign(**{OCCURRENCE: frame.groupby(ID, sort=False, dropna=False).cumcount()})


def _spec(competition) -> GradingSpec:
    return dataclasses.replace(GradingSpec.of(competition), id_columns=(ID, OCCURRENCE))


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = _spec(competition)
    align(_numbered(submission), _numbered(sample), spec, targets=list(spec.target_columns))


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = _spec(competition)
    targets = list(spec.target_columns)
    template = _numbered(answers[[ID, *targets]])
    sub, ans = align(_numbered(submission), template, spec, targets=targets)
    return get_metric(spec.metric).fn(
        ans[targets].to_numpy(dtype=float), sub[targets].to_numpy(dtype=float), **spec.metric_params
    )
