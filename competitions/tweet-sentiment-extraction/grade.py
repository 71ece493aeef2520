"""Mean word-level Jaccard index of the selected text; a row whose prediction and answer both
hold no word scores 0.

MLE-bench divides zero by zero on such a row and the whole submission fails; the `mlebench`
grading variant refuses it too (rule `empty-pair-fails`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.grading.scoring import score_aligned

TARGET = "selected_text"


def _no_word(cell) -> bool:
    return pd.isna(cell) or not str(cell).split()


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(submission, answers, spec)
    if variants.follows_mlebench(competition, "empty-pair-fails"):
        both = [_no_word(t) and _no_word(p) for t, p in zip(ans[TARGET], sub[TARGET], strict=True)]
        if any(both):
            raise InvalidSubmission(
                f"row {both.index(True)}: prediction and answer hold no word (Jaccard 0 / 0)"
            )
    return score_aligned(sub, ans, spec)
