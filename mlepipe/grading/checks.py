"""Reading a submission and checking it against a template: the answers when grading, the
public sample submission when validating (`mlepipe validate`, inside an agent's sandbox, where no
private file exists). The validator and the grader share these checks.

The YAML `grading:` block (read into GradingSpec) says which columns identify a row, which are
scored and what each cell must hold. Rows are always paired by id, never by position (except in
the `mlebench` grading variant, where a competition's rule says MLE-bench does so:
`pair_by_position`). Cells in a text format that only their metric reads (masks, boxes,
orderings...) are read by the metric's own readers (mlepipe.formats) in both. A competition
whose checks do not fit provides `validate()` in its own `grade.py`, and may call `align()` and
`check_predictions()` from here to get the same checks.

What the validator accepts, the grader never refuses. Where the answers alone decide, the
validator asks for more than the grader, never less:
- masks whose image size is private (hubmap-kidney-segmentation,
  uw-madison-gi-tract-image-segmentation, vesuvius-challenge-ink-detection): runs that overlap
  only beyond the image's last pixel are refused, which the grader accepts after cutting the
  runs to the image;
- jigsaw-toxic-comment-classification-challenge, osic-pulmonary-fibrosis-progression: which
  rows are scored is private, so every row must hold a number (the grader ignores the others);
- h-and-m-personalized-fashion-recommendations: which customers are scored is private, so every
  customer of the sample submission must be there (the grader needs only the scored ones);
- AI4Code: the cells an ordering must hold are the sample submission's (the public notebook's
  cells, which its answer orders).

Nothing here imports mlepipe.metrics (scikit-learn, scipy): the format check that agents call
inside their sandbox stays quick to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype

from mlepipe import formats
from mlepipe.grading import variants
from mlepipe.registry import Competition


class InvalidSubmission(ValueError):
    """The submission cannot be scored; the message says why, for a person to read."""


# --------------------------------------------------------------------------------------------
# Reading a submission


def read_csv_submission(path: Path) -> pd.DataFrame:
    """Reads a submission CSV the way graders expect, or raises InvalidSubmission."""
    path = Path(path)
    if not path.exists():
        raise InvalidSubmission(f"no submission file at {path}")
    if not path.is_file():
        raise InvalidSubmission(f"{path} is not a regular file")
    if path.suffix.lower() != ".csv":
        raise InvalidSubmission(f"{path.name} is not a .csv file")
    try:
        # pandas 3 parses floats exactly (MLE-bench asked for float_precision="round_trip")
        df = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(f"{path.name} is not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise InvalidSubmission(f"{path.name} is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidSubmission(f"{path.name} is not a readable CSV: {first}") from None
    if df.columns.empty:
        raise InvalidSubmission(f"{path.name} has no header row")
    return df


# --------------------------------------------------------------------------------------------
# Checking a submission against a template (answers or sample submission)


# Grading rules that several competitions declare; the branch is the cell check below.
EMPTY_CELLS = "empty-cells-scored"
INFINITE_CELLS = "infinite-cells-scored"


def _follows_mlebench(competition: Competition, rule: str) -> bool:
    """Whether the competition declares the shared ``rule`` and the mlebench variant applies."""
    return variants.declares(competition, rule) and variants.follows_mlebench(competition, rule)


@dataclass(frozen=True)
class GradingSpec:
    metric: str
    metric_params: dict[str, Any]
    id_columns: tuple[str, ...]
    target_columns: tuple[str, ...] | None
    prediction: str
    rows_sum_to_one: bool
    sum_tolerance: float
    extra_columns: str
    lower_is_better: bool | None
    # metric keyword -> answers column, passed to the metric row by row
    metric_inputs: dict[str, str]
    # answers column -> value: only the rows holding these values are scored
    score_rows: dict[str, Any]
    # target column -> the answers column that holds its truth under another name
    answer_columns: dict[str, str]
    # Empty cells go on to the metric instead of being refused: MLE-bench's behaviour in the
    # competitions that declare the grading rule `empty-cells-scored`, in its variant only.
    empty_cells_scored: bool = False
    # Likewise infinite numbers (rule `infinite-cells-scored`).
    infinite_cells_scored: bool = False

    @classmethod
    def of(cls, competition: Competition) -> GradingSpec:
        g = competition.grading
        ids = g.get("id_column") or ()
        return cls(
            metric=g["metric"],
            # Defaults are the schema's, filled in when the definition was loaded.
            metric_params=dict(g["metric_params"]),
            id_columns=(ids,) if isinstance(ids, str) else tuple(ids),
            target_columns=tuple(g["target_columns"]) if g.get("target_columns") else None,
            prediction=g["prediction"],
            rows_sum_to_one=bool(g["rows_sum_to_one"]),
            sum_tolerance=float(g["sum_tolerance"]),
            extra_columns=g["extra_columns"],
            lower_is_better=g.get("lower_is_better"),
            metric_inputs=dict(g.get("metric_inputs") or {}),
            score_rows=dict(g.get("score_rows") or {}),
            answer_columns=dict(g.get("answer_columns") or {}),
            empty_cells_scored=_follows_mlebench(competition, EMPTY_CELLS),
            infinite_cells_scored=_follows_mlebench(competition, INFINITE_CELLS),
        )

    def targets(self, template: pd.DataFrame) -> list[str]:
        if self.target_columns:
            return list(self.target_columns)
        # Columns that only feed the metric or select rows are no predictions.
        inputs = {*self.id_columns, *self.metric_inputs.values(), *self.score_rows}
        return [c for c in template.columns if c not in inputs]


def _id_keys(sub: pd.DataFrame, tmpl: pd.DataFrame, columns: tuple[str, ...]):
    """One comparable key per row of each frame. Numeric ids compare as numbers (so 1.0 is 1);
    otherwise as text, so that '007' and 7 never silently match."""
    numeric = len(columns) == 1 and all(
        pd.api.types.is_numeric_dtype(f[columns[0]]) for f in (sub, tmpl)
    )
    if numeric:
        return (pd.Series(f[columns[0]].to_numpy(dtype=float)) for f in (sub, tmpl))

    def key(frame):
        parts = [frame[c].astype(str) for c in columns]
        out = parts[0]
        for p in parts[1:]:
            out = out + "\x1f" + p
        return out.reset_index(drop=True)

    return key(sub), key(tmpl)


def _examples(values, n: int = 3) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f" (and {len(values) - n} more)" if len(values) > n else "")


def align(
    submission: pd.DataFrame,
    template: pd.DataFrame,
    spec: GradingSpec,
    *,
    targets: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Checks `submission` against `template` and returns both with rows in the same order.

    Raises InvalidSubmission for: missing columns, refused extra columns, wrong row count,
    missing/duplicate/unknown ids, and cells that do not hold what `spec.prediction` says.
    """
    targets = targets or spec.targets(template)
    needed = list(spec.id_columns) + targets
    missing = [c for c in needed if c not in submission.columns]
    if missing:
        raise InvalidSubmission(
            f"missing column(s) {_examples(missing, 5)}; expected columns {needed}"
        )
    if spec.extra_columns == "refuse":
        extra = [c for c in submission.columns if c not in template.columns]
        if extra:
            raise InvalidSubmission(f"unexpected column(s) {_examples(extra, 5)}")
    if len(submission) != len(template):
        raise InvalidSubmission(f"submission has {len(submission)} rows, expected {len(template)}")

    sub = submission[needed]
    tmpl = template
    if spec.id_columns:
        if sub[list(spec.id_columns)].isna().any().any():
            raise InvalidSubmission("some rows have an empty id")
        sub_key, tmpl_key = _id_keys(sub, tmpl, spec.id_columns)
        if not sub_key.equals(tmpl_key):  # same order: nothing to check beyond equality
            dup = sub_key[sub_key.duplicated()]
            if len(dup):
                raise InvalidSubmission(f"duplicate id(s) {_examples(dup.unique())}")
            # Hash lookups (get_indexer) stay fast on millions of ids, unlike isin on text.
            pos = pd.Index(tmpl_key).get_indexer(sub_key)
            unknown = sub_key[pos < 0]
            if len(unknown):
                raise InvalidSubmission(f"unknown id(s) {_examples(unknown)}")
            # Equal lengths, no duplicates, no unknown ids: pos is a permutation of the template.
            order = np.empty(len(pos), dtype=np.intp)
            order[pos] = np.arange(len(pos))
            sub = sub.iloc[order]
        sub = sub.reset_index(drop=True)
        tmpl = tmpl.reset_index(drop=True)
    else:
        sub = sub.reset_index(drop=True)
        tmpl = tmpl.reset_index(drop=True)

    sub = _check_cells(sub, targets, spec, tmpl)
    return sub, tmpl


def pair_by_position(
    submission: pd.DataFrame,
    template: pd.DataFrame,
    spec: GradingSpec,
    *,
    sort_by: str | None = None,
    targets: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs rows as several of MLE-bench's graders do, for the `mlebench` grading variant only:
    by position, after sorting both frames by `sort_by` where given, without comparing ids.
    Only the columns read and the row count are checked; cells as in `align`."""
    targets = targets or spec.targets(template)
    needed = ([sort_by] if sort_by else []) + targets
    missing = [c for c in needed if c not in submission.columns]
    if missing:
        raise InvalidSubmission(
            f"missing column(s) {_examples(missing, 5)}; expected columns {needed}"
        )
    if spec.extra_columns == "refuse" and len(submission.columns) != len(template.columns):
        raise InvalidSubmission(
            f"submission has {len(submission.columns)} columns, expected {len(template.columns)}"
        )
    if len(submission) != len(template):
        raise InvalidSubmission(f"submission has {len(submission)} rows, expected {len(template)}")
    sub, tmpl = submission, template
    if sort_by:
        sub, tmpl = sub.sort_values(sort_by), tmpl.sort_values(sort_by)
    sub, tmpl = sub.reset_index(drop=True), tmpl.reset_index(drop=True)
    return _check_cells(sub, targets, spec, tmpl), tmpl


def truncated_to_int(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame with the finite numbers of `columns` cut to integers towards zero, as Python's
    int() does (2.5 -> 2), for the `mlebench` grading variant of competitions that convert
    labels so; other cells are left for the checks to judge."""
    out = {}
    for col in columns:
        if col in frame.columns and is_float_dtype(frame[col]):
            values = frame[col].to_numpy(dtype=float)
            if np.isfinite(values).all():
                out[col] = np.trunc(values).astype(np.int64)
    return frame.assign(**out) if out else frame


def _check_cells(
    sub: pd.DataFrame, targets: list[str], spec: GradingSpec, template: pd.DataFrame
) -> pd.DataFrame:
    if spec.prediction in ("number", "probability"):
        converted = {}
        for col in targets:
            values = sub[col]
            # columns pandas already read as numbers need no conversion (nor a copy)
            if not (is_float_dtype(values) or is_integer_dtype(values)):
                values = converted[col] = pd.to_numeric(sub[col], errors="coerce")
                bad = sub[col][values.isna() & sub[col].notna()]
                if len(bad):
                    raise InvalidSubmission(
                        f"column '{col}' has non-numeric value(s) {_examples(bad)}"
                    )
            if values.isna().any() and not spec.empty_cells_scored:
                raise InvalidSubmission(
                    f"column '{col}' has {int(values.isna().sum())} empty/NaN cell(s)"
                )
            arr = values.to_numpy(dtype=float)
            if np.isinf(arr).any() and not spec.infinite_cells_scored:
                raise InvalidSubmission(f"column '{col}' has infinite value(s)")
            if spec.prediction == "probability" and ((arr < 0) | (arr > 1)).any():
                raise InvalidSubmission(
                    f"column '{col}' must hold probabilities in [0, 1]; "
                    f"found {arr.min()}..{arr.max()}"
                )
        if converted:
            sub = sub.assign(**converted)
        if spec.rows_sum_to_one:
            sums = sub[targets].to_numpy(dtype=float).sum(axis=1)
            off = np.abs(sums - 1.0) > spec.sum_tolerance
            if off.any():
                raise InvalidSubmission(
                    f"{int(off.sum())} row(s) do not sum to 1 (e.g. row {int(np.argmax(off))} sums "
                    f"to {sums[np.argmax(off)]:.10g}); each row must be a probability distribution"
                )
    elif spec.prediction == "label":
        for col in targets:
            if sub[col].isna().any() and not spec.empty_cells_scored:
                raise InvalidSubmission(
                    f"column '{col}' has {int(sub[col].isna().sum())} empty cell(s)"
                )
            if col in template.columns:
                _check_label_kind(col, sub[col], template[col])
    return sub


def _check_label_kind(col: str, values: pd.Series, template: pd.Series) -> None:
    """Labels of the template's kind: where it holds booleans or class numbers, so must the
    submission (True/False or 1/0 for a boolean), as the classification metrics require of
    predictions against answers. The sample submission and the answers hold the same kind, so
    the validator and the grader decide alike. Text labels are compared as text: any is valid."""
    if is_bool_dtype(template):
        kind = "booleans (True/False or 1/0)"
    elif is_integer_dtype(template) or (is_float_dtype(template) and _integral(template)):
        kind = "class numbers"
    else:
        return
    if not (is_bool_dtype(values) or is_integer_dtype(values) or is_float_dtype(values)):
        text = values[pd.to_numeric(values, errors="coerce").isna()]
        raise InvalidSubmission(
            f"column '{col}' must hold {kind} like the sample submission; "
            f"found text such as {_examples(text.unique())}"
        )
    if is_float_dtype(values) and not _integral(values):
        fractional = values[values.to_numpy(dtype=float) % 1 != 0]
        raise InvalidSubmission(
            f"column '{col}' must hold {kind} like the sample submission; "
            f"found fractional value(s) {_examples(fractional.unique())}"
        )


def _integral(values: pd.Series) -> bool:
    arr = values.to_numpy(dtype=float)
    return bool(np.isfinite(arr).all() and (arr % 1 == 0).all())


def check_predictions(
    metric: str,
    cells: Any,
    *,
    params: dict[str, Any] | None = None,
    sample_cells: Any = None,
) -> None:
    """Reads every predicted cell as `metric` reads it when scoring (mlepipe.formats), or raises
    InvalidSubmission with the reason the grader would give. `cells` and `sample_cells` are in
    the same row order; `params` holds only what public files tell."""
    try:
        formats.check_predictions(metric, cells, params=params, sample_cells=sample_cells)
    except formats.MetricInputError as exc:
        raise InvalidSubmission(str(exc)) from None


def check_against_sample(
    submission: pd.DataFrame, sample: pd.DataFrame, competition: Competition
) -> None:
    """The public check: what can be verified with the sample submission alone."""
    module = competition.grade_module
    if module is not None and hasattr(module, "validate"):
        module.validate(submission, sample, competition)
        return
    spec = GradingSpec.of(competition)
    targets = spec.targets(sample)
    sub, tmpl = align(submission, sample, spec, targets=targets)
    if len(targets) == 1:  # cells in a text format are one column, read cell by cell
        (target,) = targets
        check_predictions(
            spec.metric,
            sub[target].to_numpy(),
            params=spec.metric_params,
            sample_cells=tmpl[target].to_numpy() if target in tmpl else None,
        )
