"""ROC AUC of insult probabilities, rows identified by the comment text.

The data have no id column; MLE-bench pairs rows by `Comment`. Nine test comments occur more
than once (20 extra rows), so the text alone is not a unique key. Repeated comments are numbered
in order of appearance ("<text> (copy 2)", ...) in both files, which makes the key unique while
still asking for each comment exactly as many times as the test set holds it. Every repeated
comment carries the same label each time, so which copy meets which does not change the score:
it is the score MLE-bench computes by sorting both files on `Comment`.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, align
from mlepipe.metrics import get_metric

KEY = "Comment"
TARGET = "Insult"


def number_repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` whose repeated comments get a ' (copy n)' suffix from the second on.

    Every comment is quoted text ending in a double quote, so a suffixed key never equals a real
    comment.
    """
    if KEY not in frame.columns:
        return frame
    text = frame[KEY]
    copy = frame.groupby(KEY, sort=False, dropna=False).cumcount()
    suffixed = text.astype(str) + " (copy " + (copy + 1).astype(str) + ")"
    out = frame.copy()
    out[KEY] = text.where((copy == 0) | text.isna(), suffixed)
    return out


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = GradingSpec.of(competition)
    align(number_repeats(submission), number_repeats(sample), spec, targets=[TARGET])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    sub, ans = align(number_repeats(submission), number_repeats(answers), spec, targets=[TARGET])
    y_true = ans[TARGET].to_numpy()
    y_score = sub[TARGET].to_numpy(dtype=float)
    return get_metric(spec.metric).fn(y_true, y_score, **spec.metric_params)
