"""Segmentation metrics on run-length encoded (RLE) masks.

`y_true` and `y_pred` are sequences of RLE strings, one mask per row: space-separated pairs
"start length", 1-based, pixels numbered top to bottom then left to right (column-major), as in
MLE-bench. An empty string, "-", None or NaN is an empty mask. Image sizes come through params
`height` and `width`: one int for every row, or one value per row.

Cells are read by mlepipe.formats.rle_runs, as MLE-bench decodes them: run starts must be
positive and sorted, lengths positive, runs must not overlap; pixels past the end of the image
are dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.spatial.distance import directed_hausdorff

from mlepipe.formats import rle_runs
from mlepipe.metrics.core import MetricInputError, register, same_length


def decode_flat(rle: Any, size: int, what: str = "mask") -> np.ndarray:
    """One RLE cell as a flat boolean vector of `size` pixels (in RLE pixel order)."""
    mask = np.zeros(size, dtype=bool)
    for lo, hi in zip(*(a.tolist() for a in rle_runs(rle, what, size)), strict=True):
        mask[lo:hi] = True
    return mask


def decode(rle: Any, height: int, width: int, what: str = "mask") -> np.ndarray:
    """One RLE cell as a (height, width) boolean mask, pixels numbered down columns first."""
    return decode_flat(rle, height * width, what).reshape(width, height).T


def _sizes(n: int, height: Any, width: Any) -> list[tuple[int, int]]:
    if height is None or width is None:
        raise MetricInputError("image sizes are needed: pass height and width")
    hs = [height] * n if np.isscalar(height) else list(height)
    ws = [width] * n if np.isscalar(width) else list(width)
    if len(hs) != n or len(ws) != n:
        raise MetricInputError(f"image sizes given for {len(hs)}/{len(ws)} rows, expected {n}")
    return [(int(h), int(w)) for h, w in zip(hs, ws, strict=True)]


def _intersection(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> int:
    """Pixels covered by both run lists (each sorted and free of overlaps)."""
    if not len(a[0]) or not len(b[0]):
        return 0
    positions = np.concatenate([a[0], a[1], b[0], b[1]])
    deltas = np.repeat([1, -1, 1, -1], [len(a[0]), len(a[1]), len(b[0]), len(b[1])])
    points, index = np.unique(positions, return_inverse=True)
    coverage = np.cumsum(np.bincount(index, weights=deltas, minlength=len(points)))
    return int(np.diff(points)[coverage[:-1] == 2].sum())


def _counts(y_true: Sequence[Any], y_pred: Sequence[Any], height: Any, width: Any):
    """Per image: (answer pixels, predicted pixels, shared pixels, image pixels), computed on the
    runs themselves, so that very large images never need a decoded mask."""
    n = same_length(y_true, y_pred)
    for row, ((h, w), t, p) in enumerate(
        zip(_sizes(n, height, width), y_true, y_pred, strict=True)
    ):
        tr = rle_runs(t, f"answer mask {row}", h * w)
        pr = rle_runs(p, f"predicted mask {row}", h * w)
        yield int((tr[1] - tr[0]).sum()), int((pr[1] - pr[0]).sum()), _intersection(tr, pr), h * w


@register(
    "dice_mean",
    lower_is_better=False,
    best=1.0,
    description="Mean over images of the Dice coefficient; two empty masks score 1.",
)
def dice_mean(
    y_true: Sequence[Any], y_pred: Sequence[Any], *, height: Any = None, width: Any = None
) -> float:
    """Per-image Dice 2|X & Y| / (|X| + |Y|), averaged (hubmap-kidney-segmentation)."""
    scores = []
    for n_true, n_pred, inter, _ in _counts(y_true, y_pred, height, width):
        total = n_true + n_pred
        scores.append(1.0 if total == 0 else 2 * inter / total)
    return float(np.mean(scores))


@register(
    "dice_global",
    lower_is_better=False,
    best=1.0,
    description="One Dice coefficient over the pixels of all images pooled together.",
)
def dice_global(
    y_true: Sequence[Any], y_pred: Sequence[Any], *, height: Any = None, width: Any = None
) -> float:
    """Global Dice (google-research-identify-contrails): 2 * sum|X & Y| / (sum|X| + sum|Y|).
    All masks empty on both sides scores 1 (MLE-bench would give NaN there)."""
    inter = total = 0
    for n_true, n_pred, shared, _ in _counts(y_true, y_pred, height, width):
        inter += shared
        total += n_true + n_pred
    return 1.0 if total == 0 else 2 * inter / total


def salt_precision(
    n_true: int, n_pred: int, inter: int, n_pixels: int, thresholds: np.ndarray
) -> float:
    """tgs-salt's per-image score: the fraction of IoU thresholds the mask IoU exceeds.

    An empty answer scores 1 for an empty prediction, else 0. Where the prediction is empty but
    the answer is not, MLE-bench's histogram-based IoU counts every pixel as predicted (numpy
    bins an all-zero array into its upper bin), so the IoU becomes (true pixels) / (all pixels);
    this is reproduced so that scores match.
    """
    if n_true == 0:
        return 1.0 if n_pred == 0 else 0.0
    if n_pred == 0:
        iou = n_true / n_pixels
    else:
        iou = inter / (n_true + n_pred - inter)
    return float(np.mean(iou > thresholds))


@register(
    "iou_threshold_precision_mean",
    lower_is_better=False,
    best=1.0,
    description="Mean over images of the fraction of IoU thresholds 0.5..0.95 the mask IoU beats.",
)
def iou_threshold_precision_mean(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    height: Any = None,
    width: Any = None,
    thresholds: Sequence[float] | None = None,
) -> float:
    """tgs-salt-identification-challenge's mean precision over IoU thresholds, one object per
    image (see salt_precision). Default thresholds: numpy.arange(0.5, 1.0, 0.05)."""
    ts = np.arange(0.5, 1.0, 0.05) if thresholds is None else np.asarray(thresholds, float)
    scores = [salt_precision(*c, ts) for c in _counts(y_true, y_pred, height, width)]
    return float(np.mean(scores))


@register(
    "fbeta_mask_mean",
    lower_is_better=False,
    best=1.0,
    description="Mean over images of the pixel-wise F-beta score (beta from params, 0.5 default).",
)
def fbeta_mask_mean(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    height: Any = None,
    width: Any = None,
    beta: float = 0.5,
) -> float:
    """vesuvius-challenge-ink-detection: per image F-beta over pixels,
    (1 + b^2) TP / (b^2 (TP + FN) + TP + FP), as scikit-learn computes it (0 when both masks
    are empty); the mean over images. Pixel order does not change the score, so row-major RLE
    (as vesuvius uses) is scored correctly too."""
    b2 = beta * beta
    scores = []
    for n_true, n_pred, tp, _ in _counts(y_true, y_pred, height, width):
        denominator = b2 * n_true + n_pred
        scores.append((1 + b2) * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def hausdorff_unit(pred: np.ndarray, true: np.ndarray) -> float:
    """Symmetric Hausdorff distance between two 3-D masks, with voxel coordinates divided by the
    answer's shape and the result by sqrt(3) (the unit cube's diagonal), as uw-madison scores it.
    NaN when both are empty, 0 when equal, 1 when only one is empty or the prediction has more
    than ten times the answer's voxels."""
    n_pred, n_true = int(pred.sum()), int(true.sum())
    if n_pred == 0 and n_true == 0:
        return float("nan")
    if np.array_equal(pred, true):
        return 0.0
    if n_pred == 0 or n_true == 0 or n_pred > 10 * n_true:
        return 1.0
    scale = np.asarray(true.shape, dtype=float)
    a, b = np.argwhere(true) / scale, np.argwhere(pred) / scale
    distance = max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0])
    return float(distance / np.sqrt(3))


def _volumes(masks: list[np.ndarray], ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Masks of the same slice id OR-ed together, then stacked per case/day in slice-id order."""
    by_slice: dict[str, np.ndarray] = {}
    for key in sorted(range(len(ids)), key=lambda i: ids[i]):
        sid = ids[key]
        by_slice[sid] = by_slice[sid] | masks[key] if sid in by_slice else masks[key].copy()
    by_day: dict[str, list[np.ndarray]] = {}
    for sid, mask in by_slice.items():
        by_day.setdefault(sid.split("_slice_")[0], []).append(mask)
    try:
        return {day: np.stack(slices) for day, slices in by_day.items()}
    except ValueError:
        raise MetricInputError("the slices of one case/day have different image sizes") from None


@register(
    "dice_hausdorff_combo",
    lower_is_better=False,
    best=1.0,
    description="0.4 * mean 2-D Dice + 0.6 * (1 - mean 3-D normalised Hausdorff distance).",
)
def dice_hausdorff_combo(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    ids: Sequence[str] | None = None,
    height: Any = None,
    width: Any = None,
    dice_weight: float = 0.4,
    hausdorff_weight: float = 0.6,
    pred_ids: Sequence[str] | None = None,
) -> float:
    """uw-madison-gi-tract-image-segmentation's score.

    Rows are one (slice, class) mask each; `ids` gives each row's slice id
    ("case<c>_day<d>_slice_<s>"). Dice is computed per row, skipping rows where both masks are
    empty. For the Hausdorff part the classes of a slice are OR-ed and the slices of a case/day
    stacked (in id order) into a volume; volumes where both are empty are skipped
    (see hausdorff_unit). `pred_ids`, where given, groups the predicted masks into volumes by
    other ids than the answers' (MLE-bench groups each file by its own ids).
    """
    n = same_length(y_true, y_pred)
    if ids is None or len(ids) != n:
        raise MetricInputError("the slice id of every row is needed (param ids)")
    ids = [str(i) for i in ids]
    truth, pred, dice = [], [], []
    for row, ((h, w), t, p) in enumerate(
        zip(_sizes(n, height, width), y_true, y_pred, strict=True)
    ):
        tm, pm = decode(t, h, w, f"answer mask {row}"), decode(p, h, w, f"predicted mask {row}")
        truth.append(tm)
        pred.append(pm)
        total = int(tm.sum()) + int(pm.sum())
        dice.append(float("nan") if total == 0 else 2 * int((tm & pm).sum()) / total)
    own = ids if pred_ids is None else [str(i) for i in pred_ids]
    true_volumes, pred_volumes = _volumes(truth, ids), _volumes(pred, own)
    distances = [hausdorff_unit(pred_volumes[d], true_volumes[d]) for d in true_volumes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN is handled just below
        mean_dice, mean_distance = np.nanmean(dice), np.nanmean(distances)
    if np.isnan(mean_dice):
        raise MetricInputError("every mask is empty in both answers and predictions")
    return float(dice_weight * mean_dice + hausdorff_weight * (1 - mean_distance))
