"""MAP@12 of article recommendations, over the customers who bought something in the test week.

A submission holds exactly the columns `customer_id` and `prediction` (space-separated article
ids, best first). Every customer of the answers must appear once; other customers (the sample
submission asks for all of them) are accepted and ignored.

Article ids are compared as numbers: the answers come from transactions_train.csv, which is
rewritten without leading zeros, while articles.csv and the sample submission write them with
one (`0706016001`). Without this, a submission in the sample's format would score 0, as it does
in the `mlebench` grading variant (rule `article-ids-as-text`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

ID, TARGET = "customer_id", "prediction"


def _check_columns(submission: pd.DataFrame) -> None:
    if set(submission.columns) != {ID, TARGET}:
        raise InvalidSubmission(
            f"expected exactly the columns {ID!r} and {TARGET!r}, got {list(submission.columns)}"
        )


def _article(token: str) -> str:
    return (token.lstrip("0") or "0") if token.isdigit() else token


def normalise(cell) -> str:
    """A prediction cell with each numeric article id written without leading zeros."""
    if pd.isna(cell):
        return ""
    return " ".join(_article(t) for t in str(cell).split(" "))


def as_text(cell) -> str:
    """A prediction cell as MLE-bench compares it: the text as pandas reads it."""
    return str(cell)


def _is_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """values.isin(pool) by hashing (pandas' isin on Arrow strings is ~20x slower)."""
    return pd.Index(pool.unique()).get_indexer(values) >= 0


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    _check_columns(submission)
    align(submission, sample, GradingSpec.of(competition), targets=[TARGET])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    _check_columns(submission)
    spec = GradingSpec.of(competition)
    ids = submission[ID].astype(str)
    wanted = answers[ID].astype(str)
    absent = wanted[~_is_in(wanted, ids)]
    if len(absent):
        raise InvalidSubmission(
            f"{len(absent)} customer(s) of the test week are missing, e.g. {absent.iloc[0]!r}; "
            "predict for every customer of the sample submission"
        )
    scored = submission[_is_in(ids, wanted)]
    sub, ans = align(scored, answers, spec, targets=[TARGET])
    key = as_text if variants.follows_mlebench(competition, "article-ids-as-text") else normalise
    return get_metric(spec.metric).fn(
        [key(v) for v in ans[TARGET]], [key(v) for v in sub[TARGET]], **spec.metric_params
    )
