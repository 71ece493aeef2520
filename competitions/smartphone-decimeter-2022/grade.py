"""Mean over trips of the mean of the 50th and 95th percentile haversine error, rows paired by
(tripId, UnixTimeMillis).

MLE-bench pairs the rows of each trip by position, never reading the epochs; the `mlebench`
grading variant does so too (rule `rows-by-position-within-trip`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, pair_by_position
from mlepipe.grading.scoring import score_aligned, score_declared

TRIP = "tripId"


def _by_position_within_trip(submission: pd.DataFrame, answers: pd.DataFrame, spec: GradingSpec):
    """Each trip's rows of the submission, in their order, beside the answers' rows of the same
    trip, in theirs; every trip of the answers must have as many rows in the submission."""
    missing = [c for c in spec.id_columns if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    if len(submission) != len(answers):
        raise InvalidSubmission(f"submission has {len(submission)} rows, expected {len(answers)}")
    sub_parts, ans_parts = [], []
    for trip, truth in answers.groupby(TRIP, sort=False):
        rows = submission[submission[TRIP] == trip]
        if len(rows) != len(truth):
            raise InvalidSubmission(
                f"trip {trip!r} has {len(rows)} rows in the submission, expected {len(truth)}"
            )
        sub_parts.append(rows)
        ans_parts.append(truth)
    return pair_by_position(pd.concat(sub_parts), pd.concat(ans_parts), spec)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "rows-by-position-within-trip"):
        return score_aligned(*_by_position_within_trip(submission, answers, spec), spec)
    return score_declared(submission, answers, spec)
