"""Ranking metrics: mean average precision at k and Kendall tau between orderings."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Sequence
from typing import Any

from mlepipe.formats import MetricInputError, is_missing, ordering, same_items
from mlepipe.metrics.core import register, same_length


def _ranked_list(value: Any) -> list[str]:
    """A prediction cell as a ranked list. Strings split on single spaces, as MLE-bench does;
    an empty or missing cell is an empty list."""
    if is_missing(value):
        return []
    if isinstance(value, str):
        return value.split(" ") if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def average_precision_at_k(actual: set[str], predicted: Sequence[str], k: int) -> float:
    """AP@k of one row: sum over ranks i <= k where a new relevant item appears of
    precision@i, divided by min(|actual|, k). A repeated item counts once, at its first rank."""
    if not actual:
        return 0.0
    hits, total, seen = 0, 0.0, set()
    for rank, item in enumerate(predicted[:k], start=1):
        if item in actual and item not in seen:
            hits += 1
            total += hits / rank
        seen.add(item)
    return total / min(len(actual), k)


@register(
    "map_at_k",
    lower_is_better=False,
    best=1.0,
    description="Mean over rows of average precision of the first k ranked predictions.",
)
def map_at_k(y_true: Sequence[Any], y_pred: Sequence[Any], *, k: int) -> float:
    """MAP@k (k from params: 5 for hotel-id and whale-categorization, 12 for h-and-m).

    `y_true`: per row, the relevant items as a space-separated string (or a list/set).
    `y_pred`: per row, the ranked predictions as a space-separated string (or a list). An empty
    prediction scores 0 for its row. Strings split on single spaces, exactly as MLE-bench does.
    """
    if not isinstance(k, int) or k < 1:
        raise MetricInputError(f"k must be a positive integer, got {k!r}")
    n = same_length(y_true, y_pred)
    total = 0.0
    for truth, pred in zip(y_true, y_pred, strict=True):
        actual = set(truth) if isinstance(truth, (set, frozenset)) else set(_ranked_list(truth))
        total += average_precision_at_k(actual, _ranked_list(pred), k)
    return total / n


def _inversions(ranks: list[int]) -> int:
    """Number of pairs i < j with ranks[i] > ranks[j]."""
    count, seen = 0, []
    for i, r in enumerate(ranks):
        count += i - bisect_right(seen, r)
        insort(seen, r)
    return count


@register(
    "kendall_tau_orderings",
    lower_is_better=False,
    best=1.0,
    description="Kendall tau between predicted and true orderings, pooled over all rows.",
)
def kendall_tau_orderings(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """AI4Code's Kendall tau: 1 - 4 * (total inversions) / sum over rows of n(n - 1).

    Each row is an ordering of the same items (space-separated ids or a list); the prediction
    must be a permutation of the answer. Inversions are pooled over all rows before dividing.
    """
    same_length(y_true, y_pred)
    inversions = pairs = 0
    for row, (truth, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        t, p = ordering(truth, "answers"), ordering(pred, f"prediction {row}")
        same_items(p, t, f"prediction {row}")
        position = {item: i for i, item in enumerate(t)}
        if len(position) != len(t):
            raise MetricInputError(f"answer {row} lists an item twice")
        inversions += _inversions([position[item] for item in p])
        pairs += len(t) * (len(t) - 1)
    if pairs == 0:
        raise MetricInputError("Kendall tau is undefined: every ordering has fewer than 2 items")
    return 1.0 - 4.0 * inversions / pairs
