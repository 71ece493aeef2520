"""The metric registry and the input checks every metric shares.

A metric is a plain function `fn(y_true, y_pred, **params) -> float` registered under a name that
says what it computes. Graders pair submission and answers by id first, so metrics only ever see
row-aligned inputs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Defined with the cell readers, which the validator imports without the metrics.
from mlepipe.formats import MetricInputError, is_missing


class UnknownMetric(KeyError):
    """No metric is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    lower_is_better: bool
    best: float
    description: str


METRICS: dict[str, Metric] = {}


def register(
    name: str, *, lower_is_better: bool, best: float, description: str
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Registers the decorated function under `name`; the function itself is returned as is."""

    def decorator(fn: Callable[..., float]) -> Callable[..., float]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = Metric(name, fn, lower_is_better, float(best), description)
        return fn

    return decorator


def get_metric(name: str) -> Metric:
    """The metric called `name`; an unknown name raises UnknownMetric naming the closest ones."""
    try:
        return METRICS[name]
    except KeyError:
        pass
    normalised = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normalised in METRICS:
        return METRICS[normalised]
    close = difflib.get_close_matches(normalised, list(METRICS), n=3, cutoff=0.5)
    if not close:  # e.g. "auc" is a substring of several names but far from all of them
        close = sorted(m for m in METRICS if normalised and normalised in m)[:3]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownMetric(f"unknown metric {name!r}{hint} (known: {len(METRICS)} metrics)")


# --------------------------------------------------------------------------------------------
# Input checks shared by the metric families


def as_float_array(
    values: Any, what: str, *, ndim: int | tuple[int, ...] | None = None
) -> np.ndarray:
    """`values` as a float array with no NaN or infinity; raises MetricInputError otherwise."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise MetricInputError(
            f"{what} must be numbers; some values could not be read as numbers"
        ) from None
    if arr.size == 0:
        raise MetricInputError(f"{what} is empty: there is nothing to score")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and arr.ndim not in allowed:
        shape = {
            (1,): "a single column",
            (2,): "one column per class or target",
        }.get(allowed, f"{' or '.join(map(str, allowed))} dimensions")
        raise MetricInputError(f"{what} must have {shape}, got an array of shape {arr.shape}")
    if np.isnan(arr).any():
        raise MetricInputError(f"{what} contains {int(np.isnan(arr).sum())} missing (NaN) value(s)")
    if np.isinf(arr).any():
        raise MetricInputError(f"{what} contains infinite value(s)")
    return arr


def same_shape(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.shape != y_pred.shape:
        raise MetricInputError(
            f"predictions have shape {y_pred.shape} but answers have shape {y_true.shape}"
        )


def same_length(y_true: Sequence[Any], y_pred: Sequence[Any]) -> int:
    if len(y_true) != len(y_pred):
        raise MetricInputError(f"{len(y_pred)} predictions for {len(y_true)} answers")
    if len(y_true) == 0:
        raise MetricInputError("there are no rows to score")
    return len(y_true)


def labels_array(values: Any, what: str) -> np.ndarray:
    """Class labels as a 1-D array with no missing entries."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise MetricInputError(f"{what} must have one column, got shape {arr.shape}")
    if arr.size == 0:
        raise MetricInputError(f"{what} is empty: there is nothing to score")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise MetricInputError(f"{what} contains {int(np.isnan(arr).sum())} missing value(s)")
    if arr.dtype.kind == "O":
        missing = int(pd.isna(arr).sum())  # element by element in C, as is_missing would
        if missing:
            raise MetricInputError(f"{what} contains {missing} missing value(s)")
    return arr


def tokens(value: Any) -> list[str]:
    """A whitespace-separated cell (or an already split list) as tokens; empty when missing."""
    if isinstance(value, str):  # first: by far the most common, and called once per row
        return value.split()
    if is_missing(value):
        return []
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [str(v) for v in value]
    return [str(value)]


def sklearn_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Calls a scikit-learn metric, turning its input complaints into MetricInputError."""
    try:
        return float(fn(*args, **kwargs))
    except ValueError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # scikit-learn quotes the offending arrays after "Got"; answers must never be shown
        message = message.split("; Got")[0].split(" Got ")[0]
        if "mix of" in message.lower():
            message += (
                ": predictions must hold labels of the same kind as the answers (e.g. not text"
                " where numbers are expected, nor fractional values where classes are)"
            )
        raise MetricInputError(message) from None
