"""The text formats of prediction cells, read as their metrics score them: run-length encoded
masks, lists of objects (boxes, points), integer sequences, orderings, class ids.

Each reader takes one cell and returns what its metric scores, or raises MetricInputError with
the reason. The metrics (mlepipe.metrics) read every cell with these readers while scoring, and
`check_predictions` reads a submission's cells with the same readers and no answer at hand, for
`mlepipe validate`: so the validator refuses what the grader would refuse, with the same reason.
Cells that any text fills (word sets, ranked lists, strings compared by edit distance) need no
reader. Only numpy and pandas are imported here, so that the validator, which runs inside an
agent's sandbox, starts quickly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd


class MetricInputError(ValueError):
    """The inputs cannot be scored (NaN, wrong shape, unparsable text...).

    The message is meant for the person who made the submission.
    """


def is_missing(value: Any) -> bool:
    """True for an empty cell as pandas hands it over: None, NaN or pandas.NA."""
    if isinstance(value, (str, bytes, list, tuple, set, frozenset, dict, np.ndarray)):
        return False
    return bool(pd.isna(value))


# --------------------------------------------------------------------------------------------
# Run-length encoded masks: space-separated "start length" pairs, 1-based

EMPTY_MASK_MARKERS = ("", "-")


def rle_runs(rle: Any, what: str, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """0-based run starts and (exclusive) ends of one RLE cell, cut to an image of `size` pixels.

    As MLE-bench decodes them: starts and lengths must be positive integers, starts sorted, and
    runs must not overlap. An empty string, "-", None or NaN is an empty mask. Without `size`,
    overlaps are looked for in the runs as written, which refuses runs that overlap only beyond
    the image's last pixel (cut to the image, those no longer overlap).
    """
    if is_missing(rle) or str(rle).strip() in EMPTY_MASK_MARKERS:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    try:
        numbers = np.array([int(x) for x in str(rle).split()], dtype=np.int64)
    except ValueError:
        raise MetricInputError(f"{what} is not a run-length encoding: {str(rle)[:60]!r}") from None
    if len(numbers) % 2:
        raise MetricInputError(f"{what} has an odd number of values; RLE needs start/length pairs")
    starts, lengths = numbers[0::2], numbers[1::2]
    if (starts < 1).any() or (lengths < 1).any():
        raise MetricInputError(f"{what}: RLE starts and lengths must be positive integers")
    if (np.diff(starts) < 0).any():
        raise MetricInputError(f"{what}: RLE runs must be sorted by start")
    starts, ends = starts - 1, starts - 1 + lengths
    if size is not None:
        starts, ends = np.minimum(starts, size), np.minimum(ends, size)
    if len(starts) > 1 and (starts[1:] < np.maximum.accumulate(ends)[:-1]).any():
        raise MetricInputError(f"{what}: RLE runs overlap")
    return starts, ends


# --------------------------------------------------------------------------------------------
# Objects: a fixed number of space-separated tokens per object, all in one cell


def objects(cell: Any, width: int, what: str) -> list[list[str]]:
    """A prediction-string cell as a list of objects of `width` tokens each (none if empty)."""
    if is_missing(cell):
        return []
    if isinstance(cell, (list, tuple)):  # already parsed objects
        return [[str(v) for v in obj] for obj in cell]
    parts = str(cell).split()
    if len(parts) % width:
        raise MetricInputError(
            f"{what} must have {width} values per object, got {len(parts)} values"
        )
    return [parts[i : i + width] for i in range(0, len(parts), width)]


def numbers(obj: list[str], what: str) -> list[float]:
    """The tokens of an object as finite numbers."""
    try:
        values = [float(v) for v in obj]
    except ValueError:
        raise MetricInputError(f"{what} has a non-numeric value in {' '.join(obj)!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise MetricInputError(f"{what} has a NaN or infinite value in {' '.join(obj)!r}")
    return values


def labelled_boxes(cell: Any, what: str) -> list[tuple[str, ...]]:
    """ "label confidence x_min y_min x_max y_max" per object, as (label, five numbers)."""
    return [(o[0], *numbers(o[1:], what)) for o in objects(cell, 6, what)]


def class_boxes(cell: Any, what: str) -> list[list[float]]:
    """ "class_id confidence x_min y_min x_max y_max" per box, as six numbers."""
    return [numbers(o, what) for o in objects(cell, 6, what)]


def boxes_3d(cell: Any, what: str) -> list[tuple[list[float], str]]:
    """ "confidence x y z width length height yaw class_name" per box, as (eight numbers, class
    name); sizes must be positive."""
    boxes = []
    for o in objects(cell, 9, what):
        values = numbers(o[:8], what)
        if min(values[4:7]) <= 0:
            raise MetricInputError(f"{what}: box sizes must be positive")
        boxes.append((values, o[8]))
    return boxes


def labelled_points(cell: Any, what: str) -> tuple[list[str], np.ndarray]:
    """ "label x y" per point, as (labels, an array of (x, y) rows)."""
    points = objects(cell, 3, what)
    xy = np.array([numbers(pt[1:], what) for pt in points]).reshape(-1, 2)
    return [pt[0] for pt in points], xy


# --------------------------------------------------------------------------------------------
# Sequences, orderings and class ids


def int_sequence(value: Any, what: str) -> list[int]:
    """Space-separated integers (none if empty)."""
    if is_missing(value):
        return []
    if isinstance(value, str):
        parts = value.split()
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [value]
    try:
        return [int(p) for p in parts]
    except (TypeError, ValueError):
        raise MetricInputError(
            f"{what} must be integers separated by spaces, got {str(value)[:60]!r}"
        ) from None


def ordering(value: Any, what: str) -> list[str]:
    """Space-separated item ids, in order; an empty cell is refused."""
    if is_missing(value):
        raise MetricInputError(f"{what} has an empty ordering")
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value]


def same_items(predicted: list[str], expected: list[str], what: str) -> None:
    """An ordering must hold exactly the items it orders, each once."""
    if sorted(predicted) != sorted(expected):
        raise MetricInputError(
            f"{what} must order exactly the items of its answer "
            f"({len(predicted)} items given, {len(expected)} expected)"
        )


def first_class_id(value: Any, what: str) -> int:
    """The first of space-separated integer class ids (or a number that is one)."""
    if isinstance(value, str):
        parts = value.split()
        if not parts:
            raise MetricInputError(f"{what} has an empty label")
        value = parts[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetricInputError(f"{what} must hold integer class ids, got {value!r}") from None
    if not number.is_integer():
        raise MetricInputError(f"{what} must hold integer class ids, got {value!r}")
    return int(number)


# --------------------------------------------------------------------------------------------
# The check of a submission's cells, without answers


def _image_sizes(n: int, params: dict[str, Any]) -> list[int | None]:
    """Pixels of each row's image where the public files tell (one size for every row, or one
    per row); None where the size is private."""
    height, width = params.get("height"), params.get("width")
    if height is None or width is None:
        return [None] * n
    hs = [height] * n if np.isscalar(height) else list(height)
    ws = [width] * n if np.isscalar(width) else list(width)
    return [int(h) * int(w) for h, w in zip(hs, ws, strict=True)]


def _masks(cells: Sequence[Any], params: dict[str, Any], sample: Sequence[Any] | None) -> None:
    sizes = _image_sizes(len(cells), params)
    for row, (cell, size) in enumerate(zip(cells, sizes, strict=True)):
        rle_runs(cell, f"predicted mask {row}", size)


def _orderings(cells: Sequence[Any], params: dict[str, Any], sample: Sequence[Any] | None) -> None:
    """Each ordering must hold the items the sample submission lists for its row (AI4Code's
    sample lists each public notebook's cells, which are the cells its answer orders)."""
    for row, cell in enumerate(cells):
        items = ordering(cell, f"prediction {row}")
        if sample is not None and not is_missing(sample[row]):
            same_items(items, ordering(sample[row], "the sample submission"), f"prediction {row}")


def _each(read: Callable[[Any, str], Any], what: str):
    """A check reading every cell with `read`; `what` names the row ({row}) as the metric does."""

    def check(cells: Sequence[Any], params: dict[str, Any], sample: Sequence[Any] | None) -> None:
        for row, cell in enumerate(cells):
            read(cell, what.format(row=row))

    return check


# metric -> check(cells, public params, the sample submission's cells in the same order)
PREDICTION_CHECKS: dict[str, Callable[..., None]] = {
    "dice_mean": _masks,
    "dice_global": _masks,
    "iou_threshold_precision_mean": _masks,
    "fbeta_mask_mean": _masks,
    "dice_hausdorff_combo": _masks,
    "map_boxes_voc": _each(labelled_boxes, "prediction {row}"),
    "map_boxes_coco": _each(class_boxes, "prediction {row}"),
    "map_boxes_3d": _each(boxes_3d, "prediction {row}"),
    "f1_point_in_box": _each(labelled_points, "prediction {row}"),
    "levenshtein_per_token": _each(int_sequence, "predictions"),
    "kendall_tau_orderings": _orderings,
    "top_1_error": _each(first_class_id, "predictions"),
}


def check_predictions(
    metric: str,
    cells: Sequence[Any],
    *,
    params: dict[str, Any] | None = None,
    sample_cells: Sequence[Any] | None = None,
) -> None:
    """Reads every predicted cell (in the row order the grader pairs them) as `metric` reads it
    when scoring; raises MetricInputError for the first it cannot read. `params` holds what the
    public files tell (the metric's params, an image size per row); `sample_cells` the sample
    submission's cells, row by row."""
    check = PREDICTION_CHECKS.get(metric)
    if check is not None:
        check(cells, params or {}, sample_cells)
