"""Pixel-level grading with millions of rows, kept lean.

The checks are the general engine's (columns, row count, unique and known ids, numeric values),
but the id columns are first compared position by position, which is cheap even for millions
of strings; hashing or sorting them is not (pandas takes seconds to minutes for it). So:
- ids in the answers' order (as in the sample submission): nothing more to do;
- a few rows differ: those rows alone are paired, or the reason they cannot be is given;
- otherwise both id columns are sorted and must then be equal (as MLE-bench pairs them).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from mlepipe.grading.checks import InvalidSubmission
from mlepipe.metrics import get_metric

ID, VALUE = "id", "value"
# Up to this many rows out of place, they are paired one by one instead of sorting everything.
FEW = 100_000
ID_HINT = "ids are <page>_<row>_<col> for every pixel of every test page"


def _examples(values, n: int = 3) -> str:
    """The first `n` of a list, Series or array, for a message."""
    shown = ", ".join(repr(v) for v in list(values[:n]))
    return shown + (f" (and {len(values) - n} more)" if len(values) > n else "")


def _values(submission: pd.DataFrame) -> np.ndarray:
    column = submission[VALUE]
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        examples = _examples(column[bad])
        raise InvalidSubmission(f"column '{VALUE}' has non-numeric value(s) {examples}")
    values = values.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InvalidSubmission(
            f"column '{VALUE}' has {int((~np.isfinite(values)).sum())} empty, NaN or infinite "
            "cell(s); every pixel needs a number"
        )
    return values


def _pair_few(sub: pd.Series, tmpl: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Ids agree everywhere but at `rows`: pair those rows among themselves."""
    got, wanted = sub.iloc[rows].tolist(), tmpl.iloc[rows].tolist()
    got_count = Counter(got)
    if got_count == Counter(wanted):
        where = dict(zip(got, rows, strict=True))
        order = np.arange(len(tmpl))
        order[rows] = [where[i] for i in wanted]
        return order
    surplus = list(got_count - Counter(wanted))
    repeated = [i for i in surplus if got_count[i] > 1]
    if not repeated:
        # A surplus id that the answers hold sits elsewhere in the submission too (a full-column
        # scan each, so only for the few ids a message shows).
        repeated = [i for i in surplus[:3] if (tmpl == i).any()]
    if repeated:
        raise InvalidSubmission(f"duplicate id(s) {_examples(repeated)}")
    missing = list(Counter(wanted) - got_count)
    raise InvalidSubmission(
        f"unknown id(s) {_examples(surplus)} in place of {_examples(missing)}; {ID_HINT}"
    )


def _pair_sorted(sub: pd.Series, tmpl: pd.Series) -> np.ndarray:
    sub, tmpl = sub.astype(str), tmpl.astype(str)
    sub_order = np.asarray(sub.argsort(kind="stable"))
    tmpl_order = np.asarray(tmpl.argsort(kind="stable"))
    sub_sorted = sub.take(sub_order).reset_index(drop=True)
    tmpl_sorted = tmpl.take(tmpl_order).reset_index(drop=True)
    differ = np.flatnonzero((sub_sorted != tmpl_sorted).to_numpy())
    if differ.size:
        later = sub_sorted.iloc[1:].reset_index(drop=True)
        repeated = later == sub_sorted.iloc[:-1].reset_index(drop=True)
        if repeated.any():
            raise InvalidSubmission(f"duplicate id(s) {_examples(later[repeated].unique())}")
        # All before the first difference match, so the smaller id there has no partner.
        got, wanted = sub_sorted.iloc[differ[0]], tmpl_sorted.iloc[differ[0]]
        if got < wanted:
            raise InvalidSubmission(f"unknown id {got!r}; {ID_HINT}")
        raise InvalidSubmission(f"missing id {wanted!r}; {ID_HINT}")
    order = np.empty(len(tmpl), dtype=np.intp)
    order[tmpl_order] = sub_order
    return order


def _order(submission_ids: pd.Series, template_ids: pd.Series) -> np.ndarray | None:
    """Position in the submission of each template row's id; None when already aligned."""
    sub = submission_ids.reset_index(drop=True)
    tmpl = template_ids.reset_index(drop=True)
    if sub.isna().any():
        raise InvalidSubmission("some rows have an empty id")
    if sub.dtype == tmpl.dtype:
        rows = np.flatnonzero((sub != tmpl).to_numpy())
        if rows.size == 0:
            return None
        if rows.size <= FEW:
            return _pair_few(sub, tmpl, rows)
    return _pair_sorted(sub, tmpl)


def _check(submission: pd.DataFrame, template: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in (ID, VALUE) if c not in submission.columns]
    if missing:
        raise InvalidSubmission(f"missing column(s) {missing}; expected columns ['id', 'value']")
    if len(submission) != len(template):
        raise InvalidSubmission(
            f"submission has {len(submission)} rows, expected {len(template)} (one per pixel)"
        )
    values = _values(submission)
    order = _order(submission[ID], template[ID])
    return values, order


def validate(submission: pd.DataFrame, sample: pd.DataFrame, competition) -> None:
    """The public check against sampleSubmission.csv."""
    _check(submission, sample)


def score(submission: pd.DataFrame, answers: pd.DataFrame, competition) -> float:
    values, order = _check(submission, answers)
    if order is not None:
        values = values[order]
    truth = answers[VALUE].to_numpy(dtype=float)
    return get_metric(competition.metric_name).fn(truth, values)
