"""mAP at IoU 0.4 of the predicted boxes, COCO style, as MLE-bench computes it with pycocotools.

The answers are a long table (one row per true box); a submission has one or more rows per test
image whose prediction strings are joined, in file order, as MLE-bench does. Every test image
must appear, and no other image.
"""

from __future__ import annotations

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, check_predictions
from mlepipe.metrics import get_metric

ID, PRED = "image_id", "PredictionString"
NO_FINDING_GUESS = "14 1 0 0 1 1"


def _examples(values) -> str:
    values = sorted(map(str, values))
    return ", ".join(repr(v) for v in values[:3]) + (" ..." if len(values) > 3 else "")


def _join_by_id(ids: pd.Series, cells: pd.Series) -> dict[str, str]:
    """The cells of each id joined by spaces, in row order (a plain loop: pandas' groupby-join
    costs a Python call per group)."""
    joined: dict[str, str] = {}
    for i, cell in zip(ids.tolist(), cells.tolist(), strict=True):
        joined[i] = f"{joined[i]} {cell}" if i in joined else cell
    return joined


def _predictions(submission: pd.DataFrame, expected_ids: pd.Index) -> dict[str, str]:
    """Joined prediction string per image id; raises InvalidSubmission on a bad layout."""
    missing = [c for c in (ID, PRED) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}; expected columns [{ID!r}, {PRED!r}]")
    ids = submission[ID].astype(str)
    unknown = set(ids) - set(expected_ids)
    if unknown:
        raise InvalidSubmission(f"unknown image id(s) {_examples(unknown)}")
    absent = set(expected_ids) - set(ids)
    if absent:
        raise InvalidSubmission(f"missing image id(s) {_examples(absent)}")
    empty = submission[PRED].isna()
    if empty.any():
        raise InvalidSubmission(
            f"{int(empty.sum())} row(s) have an empty {PRED}; write at least one box per row, "
            f"e.g. '{NO_FINDING_GUESS}' for no finding"
        )
    return _join_by_id(ids, submission[PRED].astype(str))


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    images = pd.Index(sample[ID].astype(str).unique())
    predictions = _predictions(submission, images)
    # The boxes of each image as the metric reads them: its rows joined, as when scoring.
    check_predictions(competition.metric_name, [predictions[i] for i in images])


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    spec = GradingSpec.of(competition)
    answers = answers.assign(**{ID: answers[ID].astype(str)})
    images = pd.Index(answers[ID].unique())  # MLE-bench numbers images in this order
    predictions = _predictions(submission, images)
    boxes = answers[["class_id", "x_min", "y_min", "x_max", "y_max"]].astype(str)
    groups = boxes["class_id"].str.cat(boxes[["x_min", "y_min", "x_max", "y_max"]], sep=" ")
    truth = _join_by_id(answers[ID], groups)
    y_true = [truth[i] for i in images]
    y_pred = [predictions[i] for i in images]
    # MLE-bench numbers predicted boxes in submission order, so its box 0 (see the metric) is
    # the first box of the submission's first row.
    first = images.get_loc(str(submission[ID].iloc[0]))
    params = {**spec.metric_params, "first_predicted_row": first}
    return get_metric(spec.metric).fn(y_true, y_pred, **params)
