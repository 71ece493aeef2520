"""MAE of the time to eruption, rounded to an integer; every test segment exactly once.

MLE-bench compares only the sets of segment_ids and merges the answers with the submission, so
each row of a repeated id counts; the `mlebench` grading variant does so too (rule
`repeated-ids-merged`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, pair_by_position
from mlepipe.grading.scoring import score_aligned, score_declared

ID, TARGET = "segment_id", "time_to_eruption"


def _merged(submission: pd.DataFrame, answers: pd.DataFrame, spec: GradingSpec):
    missing = [c for c in (ID, TARGET) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    if set(submission[ID]) != set(answers[ID]):
        raise InvalidSubmission("the submission's segment_ids are not those of the test set")
    merged = answers[[ID, TARGET]].merge(submission[[ID, TARGET]], on=ID, suffixes=("", "_pred"))
    sub = merged[[ID, f"{TARGET}_pred"]].rename(columns={f"{TARGET}_pred": TARGET})
    return pair_by_position(sub, merged[[ID, TARGET]], spec)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "repeated-ids-merged"):
        return score_aligned(*_merged(submission, answers, spec), spec)
    return score_declared(submission, answers, spec)
