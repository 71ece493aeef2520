"""Macro F1 of the class numbers; a fractional number is no class and is refused.

MLE-bench converts each prediction with int(), which truncates 2.5 to 2; the `mlebench` grading
variant does so too (rule `labels-truncated-to-int`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, truncated_to_int
from mlepipe.grading.scoring import score_declared


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "labels-truncated-to-int"):
        submission = truncated_to_int(submission, spec.targets(answers))
    return score_declared(submission, answers, spec)
