"""Mean column-wise ROC AUC over the scored comments only.

Test comments labelled -1 in every column were never scored. As in MLE-bench, they are dropped
before the predictions are read, so whatever a submission holds for them (even an empty cell)
does not matter; the scored rows must hold numbers. Which rows are scored is private, so the
validator asks for numbers in every row.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric


def _spec(competition) -> GradingSpec:
    # Cells are checked below, on the scored rows only.
    return replace(GradingSpec.of(competition), prediction="text")


def _as_numbers(predictions: pd.DataFrame, which_rows: str) -> pd.DataFrame:
    """Every column as numbers; `which_rows` ends the message of a refusal."""
    numbers = predictions.copy()
    for col in numbers.columns:
        values = pd.to_numeric(numbers[col], errors="coerce")
        if values.isna().any():
            raise InvalidSubmission(
                f"column '{col}' has {int(values.isna().sum())} empty or non-numeric cell(s)"
                + which_rows
            )
        numbers[col] = values
    return numbers


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    spec = _spec(competition)
    targets = spec.targets(sample)
    sub, _ = align(submission, sample, spec, targets=targets)
    _as_numbers(sub[targets], "; every row needs a number (which rows are scored is private)")


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = _spec(competition)
    targets = spec.targets(answers)
    if variants.follows_mlebench(competition, "repeated-id-scored"):
        sub, ans = _paired_by_sorted_ids(submission, answers, spec, targets)
    else:
        sub, ans = align(submission, answers, spec, targets=targets)
    scored = (ans[targets].sum(axis=1) >= 0).to_numpy()
    # MLE-bench reads the predictions in the file's column order, against the answers' order.
    in_file_order = variants.follows_mlebench(competition, "columns-in-file-order")
    columns = [c for c in sub.columns if c in targets] if in_file_order else targets
    predictions = _as_numbers(sub.loc[scored, columns], " in scored rows")
    metric = get_metric(spec.metric)
    y_true = ans.loc[scored, targets].to_numpy(dtype=float)
    return metric.fn(y_true, predictions.to_numpy(dtype=float), **spec.metric_params)


def _paired_by_sorted_ids(
    submission: pd.DataFrame, answers: pd.DataFrame, spec: GradingSpec, targets: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows paired as MLE-bench pairs them: both sorted by id and taken by position, without
    checking that the ids agree. A repeated id stands in for the id it displaces; an id that
    the answers lack, or a different number of scored rows, fails."""
    (key,) = spec.id_columns
    missing = [c for c in (key, *targets) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}")
    if spec.extra_columns == "refuse" and len(submission.columns) != len(targets) + 1:
        raise InvalidSubmission("columns other than the id and the six labels")
    if len(submission) != len(answers):
        raise InvalidSubmission(f"{len(submission)} rows, expected {len(answers)}")
    # A stable sort: the rows of a repeated id keep the file's order (MLE-bench's sort need
    # not; it matters only where the repeated rows differ).
    sub = submission.sort_values(key, kind="stable").reset_index(drop=True)
    ans = answers.sort_values(key, kind="stable").reset_index(drop=True)
    scored_ids = pd.Series((ans[targets].sum(axis=1) >= 0).to_numpy(), index=ans[key])
    if not sub[key].isin(ans[key]).all():
        raise InvalidSubmission("ids that the answers do not have")
    sub_scored = scored_ids.loc[sub[key]].to_numpy()
    if sub_scored.sum() != scored_ids.sum():
        raise InvalidSubmission("another number of scored rows than the answers have")
    # The scored rows of each, paired by position; both frames laid out on the answers' rows.
    sub = sub[sub_scored].reset_index(drop=True)
    ans = ans[scored_ids.to_numpy()].reset_index(drop=True)
    return sub, ans
