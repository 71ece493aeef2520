"""Log loss as the grading block declares it; columns are matched by name.

MLE-bench takes the first column for the id and checks the row sums and the range of all the
others, so there a submission whose id column is not first fails (rule `id-first-column`).
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission
from mlepipe.grading.scoring import score_declared


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    if variants.follows_mlebench(competition, "id-first-column"):
        first = submission.columns[0] if len(submission.columns) else None
        if first != "id":
            # The id column among the probabilities: their sum is not a number there.
            raise InvalidSubmission(
                f"the first column is {first!r}, not the id: the probabilities are taken to be "
                "every column after the first"
            )
    return score_declared(submission, answers, GradingSpec.of(competition))
