"""KL divergence between the experts' vote distribution and the predicted probabilities.

The answers hold one row per labelled window, identified only by `eeg_id`, and an EEG usually
has several windows. The k-th row of an `eeg_id` in the submission is paired with its k-th row
in the answers, which is the pairing MLE-bench gets for a submission in the sample
submission's row order (it sorts both files by eeg_id and pairs by position). Votes are divided
by their row sum; predictions are clipped to [1e-15, 1 - 1e-15].

In the mlebench grading variant the rows are paired as MLE-bench pairs them (rule
`eeg-rows-paired-by-sort`): both files sorted by eeg_id with pandas' default, unstable sort.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mlepipe.grading import variants
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
    if variants.follows_mlebench(competition, "eeg-rows-paired-by-sort"):
        sub, ans = _paired_by_sort(submission, answers, spec, targets)
    else:
        template = _numbered(answers[[ID, *targets]])
        sub, ans = align(_numbered(submission), template, spec, targets=targets)
    return get_metric(spec.metric).fn(
        ans[targets].to_numpy(dtype=float), sub[targets].to_numpy(dtype=float), **spec.metric_params
    )


def _by_eeg_id(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in the order of pandas' default sort by eeg_id (numpy's quicksort argsort),
    which MLE-bench applies. It is not stable: the order of an EEG's windows comes from numpy's
    sorting code for the CPU at hand (AVX-512 here), the same for the same file on the same
    kind of machine, with numpy 2.0 and 2.4 alike."""
    return frame.iloc[np.argsort(frame[ID].to_numpy(), kind="quicksort")].reset_index(drop=True)


def _paired_by_sort(
    submission: pd.DataFrame, answers: pd.DataFrame, spec: GradingSpec, targets: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MLE-bench's pairing: same length and the same set of eeg_ids, then both files sorted by
    eeg_id and paired by position; the cells are checked as usual."""
    if ID not in submission.columns:
        raise InvalidSubmission(f"missing column '{ID}'")
    if len(submission) != len(answers):
        raise InvalidSubmission(f"submission has {len(submission)} rows, expected {len(answers)}")
    if set(submission[ID]) != set(answers[ID]):
        raise InvalidSubmission("the submission's eeg_ids are not the answers' eeg_ids")
    by_position = dataclasses.replace(spec, id_columns=())
    return align(_by_eeg_id(submission), _by_eeg_id(answers[[ID, *targets]]), by_position,
                 targets=targets)  # fmt: skip
