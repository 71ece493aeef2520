"""Object detection metrics on per-image prediction strings.

`y_true` and `y_pred` hold one cell per image, each a space-separated string of objects with a
fixed number of tokens per object (each metric's docstring gives the layout). An empty or
missing cell means no object. Prediction cells are read by the readers of mlepipe.formats,
which the validator shares.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from mlepipe.formats import boxes_3d, class_boxes, labelled_boxes, labelled_points, numbers, objects
from mlepipe.metrics.core import MetricInputError, register, same_length

# --------------------------------------------------------------------------------------------
# PASCAL VOC style mAP over images (siim-covid19-detection)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two boxes given as (x_min, y_min, x_max, y_max); 0 for a degenerate union."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@register(
    "map_boxes_voc",
    lower_is_better=False,
    best=1.0,
    description="Mean over classes of sklearn average precision of greedy IoU>0.5 box matches.",
)
def map_boxes_voc(
    y_true: Sequence[Any], y_pred: Sequence[Any], *, iou_threshold: float = 0.5
) -> float:
    """siim-covid19-detection's mAP as MLE-bench computes it.

    Cells: "label confidence x_min y_min x_max y_max" per object (the answers' confidence is
    ignored). Every label is a class of its own ("none" and "negative" included); classes are
    those present in the answers. Per image and class, predictions (by descending confidence)
    take the unmatched true box with the highest IoU above `iou_threshold`: a match is
    (1, confidence), a miss (0, confidence), an unmatched true box (1, 0), and an image with
    neither (0, 0). A class's AP is sklearn's average_precision_score over those pairs; the
    score is the mean over classes.
    """
    same_length(y_true, y_pred)
    truth, pred = [], []
    for row, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        truth.append(labelled_boxes(t, f"answer {row}"))
        predicted = labelled_boxes(p, f"prediction {row}")
        pred.append(sorted(predicted, key=lambda o: o[1], reverse=True))
    classes = sorted({o[0] for image in truth for o in image})
    if not classes:
        raise MetricInputError("the answers hold no object at all")
    aps = []
    for cls in classes:
        labels: list[int] = []
        scores: list[float] = []
        for image_truth, image_pred in zip(truth, pred, strict=True):
            boxes = [o[2:] for o in image_truth if o[0] == cls]
            matched = [False] * len(boxes)
            before = len(labels)
            for obj in image_pred:
                if obj[0] != cls:
                    continue
                best, best_iou = -1, 0.0
                for i, box in enumerate(boxes):
                    if matched[i]:
                        continue
                    iou = box_iou(obj[2:], box)
                    if iou > best_iou and iou > iou_threshold:
                        best, best_iou = i, iou
                if best >= 0:
                    matched[best] = True
                labels.append(1 if best >= 0 else 0)
                scores.append(obj[1])
            missed = matched.count(False)
            labels.extend([1] * missed)
            scores.extend([0.0] * missed)
            if len(labels) == before:
                labels.append(0)
                scores.append(0.0)
        aps.append(float(skm.average_precision_score(labels, scores)))
    return float(np.mean(aps))


# --------------------------------------------------------------------------------------------
# COCO-style mAP at one IoU threshold (vinbigdata-chest-xray-abnormalities-detection)

_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
_AREA_RANGE = (0.0, 1e10)


def _coco_ious(dts: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """IoU matrix (detections x truths) as pycocotools computes it for boxes it reads as
    (x, y, width, height): MLE-bench hands it (x_min, y_min, x_max, y_max), so the third and
    fourth values act as width and height. Reproduced as is so that scores match."""
    d, g = dts[:, None, :], gts[None, :, :]
    w = np.minimum(d[..., 0] + d[..., 2], g[..., 0] + g[..., 2]) - np.maximum(d[..., 0], g[..., 0])
    h = np.minimum(d[..., 1] + d[..., 3], g[..., 1] + g[..., 3]) - np.maximum(d[..., 1], g[..., 1])
    inter = w * h
    union = d[..., 2] * d[..., 3] + g[..., 2] * g[..., 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w > 0) & (h > 0), iou, 0.0)


def _outside_area(box: Sequence[float]) -> bool:
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area < _AREA_RANGE[0] or area > _AREA_RANGE[1]


def _coco_image(gts: list, dts: list, threshold: float, max_dets: int) -> dict | None:
    """pycocotools' evaluateImg for one image and class (area 'all', one IoU threshold).
    gts: (id, box); dts: (id, score, box)."""
    if not gts and not dts:
        return None
    gt_ignore = [_outside_area(box) for _, box in gts]
    order = sorted(range(len(gts)), key=lambda i: gt_ignore[i])  # stable: kept ones first
    gts, gt_ignore = [gts[i] for i in order], [gt_ignore[i] for i in order]
    dts = sorted(dts, key=lambda d: -d[1])[:max_dets]
    gt_match = [0] * len(gts)  # id of the detection that took each truth (0 = none)
    dt_match = [0] * len(dts)  # id of the truth each detection took (0 = none)
    dt_ignore = [False] * len(dts)
    if gts and dts:
        ious = _coco_ious(np.array([d[2] for d in dts]), np.array([g[1] for g in gts]))
        for di, (dt_id, _, _) in enumerate(dts):
            best_iou, m = min(threshold, 1 - 1e-10), -1
            for gi in range(len(gts)):
                # pycocotools tests "already taken" with id > 0, so id 0 is never taken
                if gt_match[gi] > 0:
                    continue
                if m > -1 and not gt_ignore[m] and gt_ignore[gi]:
                    break
                if ious[di, gi] < best_iou:
                    continue
                best_iou, m = ious[di, gi], gi
            if m == -1:
                continue
            dt_ignore[di] = gt_ignore[m]
            dt_match[di] = gts[m][0]
            gt_match[m] = dt_id
    for di, (_, _, box) in enumerate(dts):
        if dt_match[di] == 0 and _outside_area(box):
            dt_ignore[di] = True
    return {
        "scores": [d[1] for d in dts],
        "matched": dt_match,
        "ignored": dt_ignore,
        "gt_ignored": gt_ignore,
    }


def _coco_precisions(images: list[dict]) -> np.ndarray | None:
    """pycocotools' accumulate for one class: interpolated precision at 101 recall points."""
    scores = np.concatenate([np.asarray(e["scores"], dtype=float) for e in images])
    order = np.argsort(-scores, kind="mergesort")
    matched = np.concatenate([np.asarray(e["matched"], dtype=np.int64) for e in images])[order]
    ignored = np.concatenate([np.asarray(e["ignored"], dtype=bool) for e in images])[order]
    n_truth = sum(1 for e in images for g in e["gt_ignored"] if not g)
    if n_truth == 0:
        return None
    tp = np.cumsum((matched != 0) & ~ignored).astype(float)
    fp = np.cumsum((matched == 0) & ~ignored).astype(float)
    recall = tp / n_truth
    precision = tp / (fp + tp + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # make it non-increasing
    idx = np.searchsorted(recall, _RECALL_POINTS, side="left")
    q = np.zeros(len(_RECALL_POINTS))
    inside = idx < len(precision)
    q[inside] = precision[idx[inside]]
    return q


@register(
    "map_boxes_coco",
    lower_is_better=False,
    best=1.0,
    description="COCO-style mAP (101-point interpolation) at one IoU threshold (vinbigdata).",
)
def map_boxes_coco(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    iou_threshold: float = 0.4,
    max_detections: int = 100,
    first_predicted_row: int = 0,
) -> float:
    """vinbigdata's mAP@0.4 as MLE-bench computes it with pycocotools (stats[0]).

    Answer cells: "class_id x_min y_min x_max y_max" per box; prediction cells:
    "class_id confidence x_min y_min x_max y_max" per box. Reproduces pycocotools exactly,
    including two quirks of the way MLE-bench calls it: boxes are read as (x, y, w, h), and
    annotation ids start at 0 (numbered in cell order), which pycocotools takes for "unmatched"
    - so the very first true box and the very first predicted box never count as matched.
    MLE-bench numbers predicted boxes in the submission's row order: `first_predicted_row` is
    the position in `y_pred` of the image listed first in the submission, whose first box
    therefore gets id 0. Only that id's zero-ness matters to pycocotools.
    """
    same_length(y_true, y_pred)
    if not 0 <= first_predicted_row < max(len(y_pred), 1):
        raise MetricInputError(f"first_predicted_row {first_predicted_row} is out of range")
    # per class, per image (rows in order): (truths as (id, box), detections as (id, score, box))
    by_class: dict[int, dict[int, tuple[list, list]]] = defaultdict(dict)
    next_gt, next_dt = 0, 1  # predicted id 0 is given to the first box of first_predicted_row
    for row, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        for obj in objects(t, 5, f"answer {row}"):
            values = numbers(obj, f"answer {row}")
            by_class[int(values[0])].setdefault(row, ([], []))[0].append((next_gt, values[1:]))
            next_gt += 1
        for j, values in enumerate(class_boxes(p, f"prediction {row}")):
            dt_id = 0 if (row == first_predicted_row and j == 0) else next_dt
            next_dt += dt_id != 0
            detection = (dt_id, values[1], values[2:])
            by_class[int(values[0])].setdefault(row, ([], []))[1].append(detection)
    # classes only predicted are ignored, as pycocotools evaluates the answers' categories
    classes = sorted(c for c, images in by_class.items() if any(g for g, _ in images.values()))
    if not classes:
        raise MetricInputError("the answers hold no box at all")
    curves = []
    for cls in classes:
        images = [
            _coco_image(g, d, iou_threshold, max_detections) for g, d in by_class[cls].values()
        ]
        q = _coco_precisions(images) if images else None
        if q is not None:
            curves.append(q)
    return float(np.mean(np.concatenate(curves)))


# --------------------------------------------------------------------------------------------
# 3-D boxes (3d-object-detection-for-autonomous-vehicles)

LYFT_IOU_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


class _Box3D:
    """A box standing on the ground: centre, (width, length, height), yaw about the z axis."""

    def __init__(self, values: list[float], name: str) -> None:
        """`values`: confidence, x, y, z, width, length, height, yaw (sizes positive)."""
        self.score = values[0]
        x, y, z, width, length, height, yaw = values[1:8]
        self.name = name
        self.centre = (x, y)
        self.radius = math.hypot(width, length) / 2  # encloses the ground footprint
        self.volume = width * length * height
        self.min_z, self.max_z = z - height / 2, z + height / 2
        # the yaw's rotation matrix as pyquaternion builds it from a unit quaternion about z
        qw, qz = math.cos(yaw / 2), math.sin(yaw / 2)
        cos, sin = qw * qw - qz * qz, 2 * qw * qz
        lx, ly, wx, wy = length / 2 * cos, length / 2 * sin, width / 2 * sin, width / 2 * cos
        self.corners = [
            (x + lx + wx, y + ly - wy),
            (x + lx - wx, y + ly + wy),
            (x - lx - wx, y - ly + wy),
            (x - lx + wx, y - ly - wy),
        ]

    def iou(self, other: _Box3D) -> float:
        dz = max(0.0, min(self.max_z, other.max_z) - max(self.min_z, other.min_z))
        inter = dz * _polygon_area(_clip_convex(self.corners, other.corners))
        return min(max(inter / (self.volume + other.volume - inter), 0.0), 1.0)


def _polygon_area(points: list[tuple[float, float]]) -> float:
    n = len(points)
    twice = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )
    return abs(twice) / 2


def _clip_convex(
    subject: list[tuple[float, float]], clip: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Intersection of two convex polygons (Sutherland-Hodgman)."""
    orientation = 1.0 if _signed_area(clip) >= 0 else -1.0
    output = list(subject)
    for i in range(len(clip)):
        if not output:
            break
        (ax, ay), (bx, by) = clip[i], clip[(i + 1) % len(clip)]
        # > 0 on the inner side of the clip edge a -> b
        sides = [orientation * ((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) for p in output]
        points, output = output, []
        for j, current in enumerate(points):
            previous = points[j - 1]
            s_cur, s_prev = sides[j], sides[j - 1]
            if s_cur >= 0:
                if s_prev < 0:
                    output.append(_crossing(previous, current, s_prev, s_cur))
                output.append(current)
            elif s_prev >= 0:
                output.append(_crossing(previous, current, s_prev, s_cur))
    return output


def _signed_area(points: list[tuple[float, float]]) -> float:
    n = len(points)
    return sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )


def _crossing(p: tuple[float, float], q: tuple[float, float], sp: float, sq: float):
    t = sp / (sp - sq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _voc_average_precision(hits: list[bool], n_truth: int) -> float:
    """All-point interpolated AP (area under the precision envelope) of ranked detections,
    `hits[i]` telling whether the i-th is a true positive. Plain Python: the lists are a few
    boxes long and this runs per sample, class and threshold, where numpy's per-call cost
    dominated."""
    recalls, precisions, tp = [], [], 0
    for i, hit in enumerate(hits, 1):
        tp += hit
        recalls.append(tp / n_truth)
        precisions.append(tp / i)
    area, envelope = 0.0, 0.0
    # walk from the lowest-ranked detection up, keeping the best precision seen so far
    for k in range(len(hits) - 1, -1, -1):
        envelope = max(envelope, precisions[k])
        previous = recalls[k - 1] if k else 0.0
        if recalls[k] != previous:
            area += (recalls[k] - previous) * envelope
    return area


def _overlaps(ranked: list[_Box3D], truth: list[_Box3D]) -> np.ndarray:
    """3-D IoU of every (prediction, true box) pair. Pairs whose ground footprints' enclosing
    circles or height ranges do not meet are 0 without clipping polygons."""
    iou = np.zeros((len(ranked), len(truth)))
    if not ranked or not truth:
        return iou
    pc, tc = np.array([b.centre for b in ranked]), np.array([b.centre for b in truth])
    reach = np.array([b.radius for b in ranked])[:, None] + np.array([b.radius for b in truth])
    near = np.hypot(pc[:, None, 0] - tc[None, :, 0], pc[:, None, 1] - tc[None, :, 1]) <= reach
    for i, j in zip(*np.nonzero(near), strict=True):
        iou[i, j] = ranked[i].iou(truth[j])
    return iou


def _best_matches(overlaps: np.ndarray) -> tuple[list[int], list[float]]:
    """Per ranked prediction (row): its best-overlapping true box and that IoU."""
    best = overlaps.argmax(axis=1)
    return best.tolist(), overlaps[np.arange(len(best)), best].tolist()


def _class_ap(best: list[int], best_iou: list[float], n_truth: int, threshold: float) -> float:
    """AP of ranked predictions: each is a hit when its best true box beats the threshold and
    is not yet taken by a higher-ranked prediction."""
    taken, hits = set(), []
    for j, iou in zip(best, best_iou, strict=True):
        hit = iou > threshold and j not in taken
        if hit:
            taken.add(j)
        hits.append(hit)
    return _voc_average_precision(hits, n_truth)


@register(
    "map_boxes_3d",
    lower_is_better=False,
    best=1.0,
    description="Mean over samples and IoU thresholds 0.5..0.95 of per-sample 3-D box mAP.",
)
def map_boxes_3d(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    iou_thresholds: Sequence[float] = LYFT_IOU_THRESHOLDS,
) -> float:
    """3d-object-detection-for-autonomous-vehicles' score as MLE-bench computes it (Lyft's
    mAP_evaluation applied to each sample on its own).

    Cells: "confidence x y z width length height yaw class_name" per object (the answers'
    confidence is ignored). For each sample, threshold and class of the sample's answers,
    predictions by descending confidence are true positives when their best-overlapping box of
    that class (3-D IoU: ground-polygon overlap times height overlap) beats the threshold and is
    not yet taken; AP is the all-point interpolated area. The score averages the per-class mean
    over samples and thresholds. A sample whose answer has no object is undefined.
    """
    same_length(y_true, y_pred)
    values = []
    for row, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        truth = [_Box3D(*box) for box in boxes_3d(t, f"answer {row}")]
        pred = [_Box3D(*box) for box in boxes_3d(p, f"prediction {row}")]
        classes = sorted({b.name for b in truth})
        if not classes:
            raise MetricInputError(f"answer {row} has no object: its mAP is undefined")
        matches = []  # per class: best true box per prediction (by descending confidence)
        for cls in classes:
            ranked = sorted((b for b in pred if b.name == cls), key=lambda b: -b.score)
            truth_cls = [b for b in truth if b.name == cls]
            if ranked:
                matches.append((*_best_matches(_overlaps(ranked, truth_cls)), len(truth_cls)))
            else:
                matches.append(None)
        for threshold in iou_thresholds:
            aps = [_class_ap(*m, threshold) if m else 0.0 for m in matches]
            values.append(sum(aps) / len(aps))
    return float(np.mean(values))


# --------------------------------------------------------------------------------------------
# Character centres inside boxes (kuzushiji-recognition)


@register(
    "f1_point_in_box",
    lower_is_better=False,
    best=1.0,
    description="F1 of predicted labelled points that fall strictly inside a same-label box.",
)
def f1_point_in_box(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """kuzushiji-recognition's F1. Answer cells: "label x y width height" per box; prediction
    cells: "label x y" per point. Each true box, in order, takes the first unused predicted point
    of its label strictly inside it (true positive) or counts a false negative; unused points are
    false positives. Counts are pooled over pages; 0 when nothing is predicted or true."""
    same_length(y_true, y_pred)
    tp = fp = fn = 0
    for row, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        boxes = objects(t, 5, f"answer {row}")
        point_labels, xy = labelled_points(p, f"prediction {row}")
        labels = np.array(point_labels, dtype=object)
        unused = np.ones(len(point_labels), dtype=bool)
        for box in boxes:
            x, y, w, h = numbers(box[1:], f"answer {row}")
            hit = (
                (x < xy[:, 0])
                & (x + w > xy[:, 0])
                & (y < xy[:, 1])
                & (y + h > xy[:, 1])
                & (labels == box[0])
                & unused
            )
            if hit.any():
                tp += 1
                unused[np.argmax(hit)] = False
            else:
                fn += 1
        fp += int(unused.sum())
    if tp + fp == 0 or tp + fn == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    if precision <= 0 or recall <= 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)
