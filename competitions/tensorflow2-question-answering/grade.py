"""MLE-bench's scoring of long and short answers, as labels for scikit-learn's micro F1.

Each test example needs two rows, `<example_id>_long` and `<example_id>_short`. A prediction is
`start:end` (token indices), `YES`, `NO`, or blank. Per row: a non-blank prediction is right
(label 1, predicted 1) when it is one of the annotated answers and wrong (0, 1) otherwise; a
blank one is wrong (1, 0) when an answer exists and right (0, 0) when none does. Micro F1 over
these binary labels, as MLE-bench computes it, equals the fraction of rows that are right.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.metrics import get_metric

ID, TARGET = "example_id", "PredictionString"


def parse(prediction: str) -> tuple[int, int] | str:
    """A stripped prediction as (start, end), "YES", "NO" or ""; raises InvalidSubmission."""
    parts = prediction.split(":")
    if len(parts) == 2:
        try:
            return int(parts[0]), int(parts[1])
        except ValueError:
            pass
    elif prediction in ("YES", "NO", ""):
        return prediction
    raise InvalidSubmission(
        f"prediction {prediction!r} is not 'start:end' token indices, YES, NO or blank"
    )


def _predictions(submission: pd.DataFrame) -> pd.DataFrame:
    for col in (ID, TARGET):
        if col not in submission.columns:
            raise InvalidSubmission(f"missing column '{col}'; expected columns [{ID}, {TARGET}]")
    text = submission[[ID, TARGET]].astype(object).where(submission[[ID, TARGET]].notna(), "")
    return text.map(str)


def _spec(competition) -> GradingSpec:
    return replace(GradingSpec.of(competition), prediction="text")


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    sub, _ = align(_predictions(submission), sample, _spec(competition), targets=[TARGET])
    for prediction in sub[TARGET]:
        parse(prediction.strip())


def _valid_answers(annotation: dict, kind: str) -> list[tuple[int, int] | str]:
    if kind == "long":
        long = annotation["long_answer"]
        return [] if long["start_token"] == -1 else [(int(long["start_token"]),
                                                     int(long["end_token"]))]  # fmt: skip
    answers: list[tuple[int, int] | str] = [
        (int(a["start_token"]), int(a["end_token"])) for a in annotation["short_answers"]
    ]
    if annotation["yes_no_answer"] != "NONE":
        answers.append(annotation["yes_no_answer"])
    return answers


def score(submission: pd.DataFrame, answers: list[dict], competition) -> float:
    annotations = {str(example[ID]): example["annotations"][0] for example in answers}
    expected = pd.DataFrame(
        {ID: [f"{i}_{kind}" for i in annotations for kind in ("long", "short")]}
    )
    sub, _ = align(_predictions(submission), expected, _spec(competition), targets=[TARGET])
    y_true, y_pred = [], []
    for row_id, prediction in zip(sub[ID], sub[TARGET], strict=True):
        example_id, _, kind = row_id.rpartition("_")
        valid = _valid_answers(annotations[example_id], kind)
        predicted = parse(prediction.strip())
        y_pred.append(1 if predicted != "" else 0)
        y_true.append(int(predicted in valid) if predicted != "" else int(bool(valid)))
    return get_metric(competition.metric_name).fn(y_true, y_pred)
