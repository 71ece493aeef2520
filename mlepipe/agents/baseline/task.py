"""What to predict: the id columns and the outputs of a task, inferred from the sample
submission and the training table."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlepipe.agents.baseline import CannotModel
from mlepipe.agents.baseline.tables import Table, metric_hint, to_numbers


@dataclass
class Output:
    """One thing to predict: `kind` is 'classes' (one probability column per class), 'binary'
    (probability of the positive class), 'label' (a class, written as in train) or 'number'."""

    kind: str
    columns: list[str]
    y: pd.Series  # aligned with the training rows; NaN where unknown
    classes: list[str] | None = None

    def describe(self) -> str:
        cols = ",".join(self.columns[:4]) + ("..." if len(self.columns) > 4 else "")
        return f"{self.kind}[{cols}]"


@dataclass
class Task:
    id_columns: list[str]
    outputs: list[Output]
    metric: str | None


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def infer_task(sample: pd.DataFrame, train: Table, test: Table | None, description: str) -> Task:
    """Id and target columns from the sample submission; how each target maps to train."""
    columns = list(sample.columns)
    ids = [c for c in columns if c in test.frame.columns] if test is not None else columns[:1]
    targets = [c for c in columns if c not in ids]
    if not targets:
        raise CannotModel(
            "every sample-submission column is also a test column; nothing to predict"
        )
    metric = metric_hint(description)
    frame = train.frame

    if all(t in frame.columns for t in targets):
        block = frame[targets].apply(to_numbers)
        if len(targets) > 1 and block.isin([0, 1]).all().all() and (block.sum(axis=1) == 1).all():
            # one-hot answers in train: model them as one class per row
            y = block.idxmax(axis=1).astype(str)
            return Task(ids, [Output("classes", targets, y, classes=targets)], metric)
        outputs = [_column_output(t, train, sample[t], metric) for t in targets]
        return Task(ids, outputs, metric)

    # Targets are class names: a train column (absent from test) holds them as values.
    test_cols = set(test.frame.columns) if test is not None else set()
    by_norm = {_norm(t): t for t in targets}
    for col in frame.columns:
        if col in test_cols or col in ids:
            continue
        values = train.text(col)
        known = values[values != ""]
        if len(known) and known.map(_norm).isin(list(by_norm)).all():
            y = values.map(lambda v: by_norm.get(_norm(v)) if v != "" else np.nan)
            return Task(ids, [Output("classes", targets, y, classes=targets)], metric)
    missing = [t for t in targets if t not in frame.columns]
    raise CannotModel(
        f"sample-submission column(s) {missing[:5]} are not in {train.path.name}, and no training "
        "column holds them as class labels"
    )


def _column_output(column: str, train: Table, sample_values: pd.Series, metric: str | None):
    values = train.frame[column]
    numbers = to_numbers(values)
    sample_numbers = pd.to_numeric(sample_values, errors="coerce")
    sample_numeric = bool(sample_numbers.notna().all())
    known = numbers.dropna()
    numeric = len(known) > 0 and numbers.notna().sum() >= 0.99 * values.notna().sum()
    if numeric and set(known.unique()) <= {0.0, 1.0}:
        fractional = sample_numeric and bool((sample_numbers % 1 != 0).any())
        if sample_numeric and (fractional or metric in ("auc", "log_loss")):
            return Output("binary", [column], numbers, classes=["0", "1"])
        return Output("label", [column], _label_texts(train, column))
    if numeric and metric in ("rmse", "rmsle", "mae"):
        return Output("number", [column], numbers)
    integral = numeric and bool((known % 1 == 0).all())
    if numeric and not (integral and known.nunique() <= 30 and sample_numeric):
        return Output("number", [column], numbers)
    return Output("label", [column], _label_texts(train, column))


def _label_texts(train: Table, column: str) -> pd.Series:
    texts = train.text(column)
    return texts.where(texts != "", np.nan)
