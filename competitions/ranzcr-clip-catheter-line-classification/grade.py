"""Mean column-wise ROC AUC over the 11 labels, as the grading block declares it.

MLE-bench 783b15a's class list lacks "CVC - Normal" and "Swan Ganz Catheter Present", so it
scores the other 9 labels only and does not ask for those two columns (rule
`nine-labels-scored`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec
from mlepipe.grading.scoring import score_declared

UNLISTED = ("CVC - Normal", "Swan Ganz Catheter Present")


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    if variants.follows_mlebench(competition, "nine-labels-scored"):
        nine = tuple(c for c in spec.target_columns if c not in UNLISTED)
        spec = replace(spec, target_columns=nine)
    return score_declared(submission, answers, spec)
