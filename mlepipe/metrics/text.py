"""Text metrics: word-level Jaccard and Levenshtein edit distances."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from rapidfuzz.distance import Levenshtein as _Levenshtein
from rapidfuzz.process import cpdist

from mlepipe.formats import MetricInputError, int_sequence, is_missing
from mlepipe.metrics.core import register, same_length


def _text(value: Any, missing: str = "") -> str:
    """A cell as a string; a missing one (None, NaN, pandas.NA) as `missing`."""
    if type(value) is str:  # noqa: E721 - the common case first: this runs once per row
        return value
    return missing if is_missing(value) else str(value)


def word_jaccard(a: str, b: str) -> float:
    """|A & B| / |A | B| for the sets of lower-cased whitespace-separated words; 0 if both are
    empty (scikit-learn's zero_division default, which MLE-bench's chaii grader inherits)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    union = len(wa | wb)
    return len(wa & wb) / union if union else 0.0


@register(
    "jaccard_word_mean",
    lower_is_better=False,
    best=1.0,
    description="Mean over rows of the Jaccard index of lower-cased word sets.",
)
def jaccard_word_mean(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Word-level Jaccard (chaii-hindi-and-tamil-question-answering, tweet-sentiment-extraction).
    Rows are strings; a missing cell is the empty string."""
    n = same_length(y_true, y_pred)
    return sum(word_jaccard(_text(t), _text(p)) for t, p in zip(y_true, y_pred, strict=True)) / n


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance (insertions, deletions, substitutions, all cost 1) between two strings or
    sequences of hashable items (rapidfuzz's C++ implementation: ~100x a Python loop)."""
    return _Levenshtein.distance(a, b)


@register(
    "levenshtein_mean",
    lower_is_better=True,
    best=0.0,
    description="Mean over rows of the character-level Levenshtein distance.",
)
def levenshtein_mean(y_true: Sequence[Any], y_pred: Sequence[Any], *, missing: str = "") -> float:
    """Mean edit distance between strings (bms-molecular-translation, billion-word-imputation).
    A missing cell counts as the string `missing` (MLE-bench's bms grader reads it as "nan")."""
    n = same_length(y_true, y_pred)
    # rapidfuzz pairs the two lists in C++: a Python loop of distance() calls cost ~6x more.
    truth, pred = ([_text(v, missing) for v in values] for values in (y_true, y_pred))
    return float(cpdist(truth, pred, scorer=_Levenshtein.distance).sum()) / n


@register(
    "levenshtein_per_token",
    lower_is_better=True,
    best=0.0,
    description="Sum of token-level edit distances divided by the number of true tokens.",
)
def levenshtein_per_token(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """multi-modal-gesture-recognition's error rate: rows are space-separated integer sequences;
    the sum over rows of the edit distance between the sequences is divided by the total number
    of tokens in the answers (so it can exceed 1)."""
    same_length(y_true, y_pred)
    truth = [int_sequence(t, "answers") for t in y_true]
    pred = [int_sequence(p, "predictions") for p in y_pred]
    total = sum(len(t) for t in truth)
    if total == 0:
        raise MetricInputError("the answers hold no token at all")
    return sum(levenshtein(t, p) for t, p in zip(truth, pred, strict=True)) / total
