"""lwlrap over the 80 class columns, matched by name.

MLE-bench also requires the columns in the sample submission's order, `fname` first; the
`mlebench` grading variant does so too (rule `columns-in-sample-order`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    if variants.follows_mlebench(competition, "columns-in-sample-order") and list(
        submission.columns
    ) != list(answers.columns):
        raise InvalidSubmission("the columns must be `fname` and then the classes in their order")
    return score_declared(submission, answers, GradingSpec.of(competition))
