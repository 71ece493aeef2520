"""Scoring a submission against the private answers.

One engine serves every competition: after the checks of `checks.align`, the metric named in the
YAML `grading:` block gets the scored columns of answers and submission, row by row, with
`metric_params`. The block may also hand answers columns to the metric (`metric_inputs`, e.g.
each row's group), score only some rows (`score_rows`) and name a target column that the answers
call otherwise (`answer_columns`). A competition whose scoring does not fit provides `score()` in
its own `grade.py`; one that only branches on a grading rule first (mlepipe.grading.variants) then
calls `score_declared`, or `score_aligned` on rows it paired itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from mlepipe.formats import MetricInputError
from mlepipe.grading import variants
from mlepipe.grading.checks import GradingSpec, InvalidSubmission, align
from mlepipe.hashing import md5_file_cached
from mlepipe.registry import Competition

if TYPE_CHECKING:
    from mlepipe.metrics import Metric

SCORE_DECIMALS = 5  # MLE-bench rounds every score to 5 decimals


class AnswersChanged(RuntimeError):
    """The private answers differ from the MD5s recorded when they were prepared."""


def verify_answers(competition: Competition, data_dir: Path) -> None:
    """Checks the private files against the `private:` MD5s of `<id>/checksums.yaml`, so that
    edited or damaged answers never give a score. A file's MD5 is computed once per process
    for each size and mtime, so grading many runs hashes the answers once."""
    record = competition.checksums_path(data_dir)
    private = competition.private_dir(data_dir)
    again = (
        f"prepare it again with `mlepipe prepare {competition.id} --data-dir {data_dir} --force`"
    )
    try:
        recorded = (yaml.safe_load(record.read_text()) or {}).get("private") or {}
    except FileNotFoundError:
        raise AnswersChanged(f"{competition.id}: no checksum record at {record}; {again}") from None
    if not recorded:
        raise AnswersChanged(f"{competition.id}: {record} records no private files; {again}")
    for name, md5 in sorted(recorded.items()):
        path = private / name
        try:
            actual = md5_file_cached(path)
        except FileNotFoundError:
            raise AnswersChanged(f"{competition.id}: {path} is missing; {again}") from None
        if actual != md5:
            raise AnswersChanged(
                f"{competition.id}: {path} differs from the MD5 recorded in {record}; {again}"
            )


def load_answers(path: Path) -> pd.DataFrame | list[dict]:
    """Answers are a CSV (most competitions) or JSON lines (a few)."""
    path = Path(path)
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    return pd.read_csv(path)


def _metric(spec: GradingSpec) -> Metric:
    # Imported here: the command line imports this module for every command, `validate` too,
    # which must not wait for scikit-learn and scipy to load.
    from mlepipe.metrics import get_metric

    return get_metric(spec.metric)


def lower_is_better(competition: Competition) -> bool:
    spec = GradingSpec.of(competition)
    if spec.lower_is_better is not None:
        return spec.lower_is_better
    return _metric(spec).lower_is_better


def score_frames(submission: pd.DataFrame, answers: Any, competition: Competition) -> float:
    """The unrounded score of an already-read submission; raises InvalidSubmission."""
    spec = GradingSpec.of(competition)
    module = competition.grade_module
    try:
        if module is not None and hasattr(module, "score"):
            value = module.score(submission, answers, competition)
        else:
            value = score_declared(submission, answers, spec)
    except MetricInputError as exc:
        raise InvalidSubmission(str(exc)) from None
    value = float(value)
    if math.isnan(value) and variants.current() != variants.MLEBENCH:
        # MLE-bench reports a NaN score for a valid submission (that earns no medal); a
        # rule's mlebench branch returns NaN where MLE-bench's grader does.
        raise InvalidSubmission("the metric is undefined for this submission (NaN)")
    return value


def score_declared(submission: pd.DataFrame, answers: pd.DataFrame, spec: GradingSpec) -> float:
    """The score as the grading block declares it."""
    if spec.answer_columns:
        answers = answers.rename(columns={v: k for k, v in spec.answer_columns.items()})
    sub, ans = align(submission, answers, spec)
    return score_aligned(sub, ans, spec)


def score_aligned(sub: pd.DataFrame, ans: pd.DataFrame, spec: GradingSpec) -> float:
    """The declared metric of submission and answers rows already paired (same order)."""
    targets = spec.targets(ans)
    if spec.score_rows:
        # Every row is checked above; only the selected ones count.
        scored = np.logical_and.reduce(
            [(ans[column] == value).to_numpy() for column, value in spec.score_rows.items()]
        )
        sub, ans = sub[scored], ans[scored]
    inputs = {name: ans[column].to_numpy() for name, column in spec.metric_inputs.items()}
    y_true = _column_values(ans, targets)
    y_pred = _column_values(sub, targets)
    if spec.empty_cells_scored and sub[targets].isna().any().any():
        return _empty_cells_as_mlebench(spec, y_true, y_pred, inputs)
    if spec.infinite_cells_scored and np.isinf(y_pred.astype(float)).any():
        return _infinite_cells_as_mlebench(spec, y_true, y_pred, inputs)
    return _metric(spec).fn(y_true, y_pred, **inputs, **spec.metric_params)


# What MLE-bench 783b15a's implementation of a metric gives for a scored prediction left empty,
# where a competition lets empty cells reach the metric (grading rule `empty-cells-scored`, the
# mlebench variant only). A metric not listed is scikit-learn's, which refuses NaN: invalid.
WRONG_LABEL = "wrong label"
EMPTY_CELL_OUTCOMES: dict[str, float | str] = {
    # scikit-learn's f1_score takes NaN for a label of its own, never right
    "f1_micro": WRONG_LABEL,
    # its own loop: the precision is NaN, which fails its `> 0` test
    "f1_probabilistic": 0.0,
    # numpy: the trip's percentiles, and so the mean, are NaN
    "haversine_p50_p95_mean": float("nan"),
}


def _empty_cells_as_mlebench(spec: GradingSpec, y_true, y_pred, inputs) -> float:
    outcome = EMPTY_CELL_OUTCOMES.get(spec.metric)
    if outcome is None:
        raise InvalidSubmission(f"{spec.metric} cannot be computed with empty predictions")
    if outcome != WRONG_LABEL:
        return float(outcome)
    # A label that no answer holds, where the prediction is empty.
    y_pred = np.where(pd.isna(y_pred), "\x00empty", y_pred.astype(object))
    return _metric(spec).fn(y_true, y_pred, **inputs, **spec.metric_params)


# What MLE-bench 783b15a's implementation of a metric gives for an infinite prediction, where a
# competition lets infinite cells reach the metric (rule `infinite-cells-scored`, the mlebench
# variant only): clipped into the metric's range like any value outside it, or a NaN score.
CLIPPED = "clipped"
INFINITE_CELL_OUTCOMES: dict[str, float | str] = {
    # it clips every prediction to [0, 1] first
    "f1_probabilistic": CLIPPED,
    # numpy: the distances, their percentiles and the mean are NaN
    "haversine_p50_p95_mean": float("nan"),
}


def _infinite_cells_as_mlebench(spec: GradingSpec, y_true, y_pred, inputs) -> float:
    outcome = INFINITE_CELL_OUTCOMES.get(spec.metric)
    if outcome is None:
        raise InvalidSubmission(f"{spec.metric} cannot be computed with infinite predictions")
    if outcome != CLIPPED:
        return float(outcome)
    # Clipping makes +inf the top of the range and -inf the bottom, as the metric's own clip.
    y_pred = np.clip(y_pred.astype(float), 0.0, 1.0)
    return _metric(spec).fn(y_true, y_pred, **inputs, **spec.metric_params)


def _column_values(frame: pd.DataFrame, targets: list[str]) -> np.ndarray:
    if len(targets) == 1:
        return frame[targets[0]].to_numpy()
    return frame[targets].to_numpy()


def round_score(value: float) -> float:
    return round(value, SCORE_DECIMALS)
