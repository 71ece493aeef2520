"""Classification metrics: ROC AUC variants, log losses, accuracy, F-scores, MCC, kappa, KL.

Unless a docstring says otherwise, `y_true` and `y_pred` are row-aligned arrays: 1-D for a single
target column, 2-D (rows x classes/targets) for several. Where MLE-bench computes a score with
scikit-learn, the same scikit-learn function computes it here, unless a docstring says that the
same value is computed directly (for speed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from mlepipe.formats import first_class_id
from mlepipe.metrics.core import (
    MetricInputError,
    as_float_array,
    labels_array,
    register,
    same_length,
    same_shape,
    sklearn_call,
    tokens,
)

# --------------------------------------------------------------------------------------------
# ROC AUC


def _binary_answers(y_true: np.ndarray, what: str = "answers") -> None:
    values = np.unique(y_true)
    if not np.isin(values, (0.0, 1.0)).all():
        raise MetricInputError(f"{what} must be 0/1 labels, found values {values[:5].tolist()}")
    if len(values) < 2:
        raise MetricInputError(
            f"ROC AUC is undefined: the {what} hold only one class ({values[0]:g})"
        )


def _check_probabilities(y_pred: np.ndarray) -> None:
    if y_pred.min() < 0 or y_pred.max() > 1:
        raise MetricInputError(
            f"predictions must be probabilities between 0 and 1; found values from "
            f"{y_pred.min():g} to {y_pred.max():g}"
        )


@register(
    "roc_auc",
    lower_is_better=False,
    best=1.0,
    description="Area under the ROC curve of one binary target.",
)
def roc_auc(y_true: Any, y_pred: Any, *, probabilities_only: bool = True) -> float:
    """sklearn's roc_auc_score; `y_true` 0/1 (or bool), `y_pred` scores.

    `probabilities_only` (default, as MLE-bench checks) refuses scores outside [0, 1].
    """
    y_true = as_float_array(y_true, "answers", ndim=1)
    y_pred = as_float_array(y_pred, "predictions", ndim=1)
    same_shape(y_true, y_pred)
    _binary_answers(y_true)
    if probabilities_only:
        _check_probabilities(y_pred)
    return sklearn_call(skm.roc_auc_score, y_true, y_pred)


@register(
    "roc_auc_column_mean",
    lower_is_better=False,
    best=1.0,
    description="Mean over target columns of each column's binary ROC AUC.",
)
def roc_auc_column_mean(
    y_true: Any,
    y_pred: Any,
    *,
    probabilities_only: bool = False,
    skip_negative_rows: bool = False,
) -> float:
    """Column-wise ROC AUC, averaged with equal weight per column (sklearn's macro average).

    `y_true` and `y_pred` are (rows x columns). `skip_negative_rows` drops rows whose answers sum
    below zero (answers mark unscored rows with -1, as in jigsaw-toxic-comment).
    """
    y_true = as_float_array(y_true, "answers", ndim=(1, 2))
    y_pred = as_float_array(y_pred, "predictions", ndim=(1, 2))
    same_shape(y_true, y_pred)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    if skip_negative_rows:
        keep = y_true.sum(axis=1) >= 0
        y_true, y_pred = y_true[keep], y_pred[keep]
        if not len(y_true):
            raise MetricInputError("every row of the answers is marked unscored")
    if probabilities_only:
        _check_probabilities(y_pred)
    scores = []
    for j in range(y_true.shape[1]):
        _binary_answers(y_true[:, j], f"answers of column {j}")
        scores.append(sklearn_call(skm.roc_auc_score, y_true[:, j], y_pred[:, j]))
    return float(np.mean(scores))


def _insert_tpr_points(
    fpr: np.ndarray, tpr: np.ndarray, points: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Adds each TPR value of `points` to the ROC curve, with its FPR linearly interpolated."""
    fpr_list, tpr_list = fpr.tolist(), tpr.tolist()
    for point in points:
        if point in tpr_list:
            continue
        above = next((i for i, t in enumerate(tpr_list) if t > point), None)
        if above is None:
            continue
        t0, t1 = tpr_list[above - 1], tpr_list[above]
        f0, f1 = fpr_list[above - 1], fpr_list[above]
        tpr_list.insert(above, point)
        fpr_list.insert(above, f0 + (f1 - f0) * (point - t0) / (t1 - t0))
    return np.array(fpr_list), np.array(tpr_list)


@register(
    "roc_auc_tpr_weighted",
    lower_is_better=False,
    best=1.0,
    description="ROC AUC with horizontal TPR bands weighted differently (alaska2).",
)
def roc_auc_tpr_weighted(
    y_true: Any,
    y_pred: Any,
    *,
    tpr_thresholds: Sequence[float] = (0.0, 0.4, 1.0),
    weights: Sequence[float] = (2.0, 1.0),
) -> float:
    """Weighted AUC: the area between consecutive TPR thresholds, weighted, normalised to [0, 1].

    Each band [t_i, t_i+1] contributes the area to the right of the ROC curve within the band
    (TPR thresholds are inserted into the curve by linear interpolation, as MLE-bench does), times
    its weight; the sum is divided by sum(weight_i * (t_i+1 - t_i)).
    """
    if len(weights) != len(tpr_thresholds) - 1:
        raise MetricInputError("there must be one weight per band between TPR thresholds")
    y_true = as_float_array(y_true, "answers", ndim=1)
    y_pred = as_float_array(y_pred, "predictions", ndim=1)
    same_shape(y_true, y_pred)
    _binary_answers(y_true)
    fpr, tpr, _ = skm.roc_curve(y_true, y_pred, pos_label=1)
    fpr, tpr = _insert_tpr_points(fpr, tpr, tpr_thresholds)
    total = 0.0
    for (low, high), weight in zip(
        zip(tpr_thresholds[:-1], tpr_thresholds[1:], strict=True), weights, strict=True
    ):
        band = (tpr >= low) & (tpr <= high)
        if not band.any():
            continue
        # close the band with a horizontal line to FPR 1 at its top, and measure from its bottom
        xs = np.concatenate([fpr[band], [1.0]])
        ys = np.concatenate([tpr[band], [high]]) - low
        total += skm.auc(xs, ys) * weight
    bands = np.diff(np.asarray(tpr_thresholds, dtype=float))
    return float(total / np.dot(bands, np.asarray(weights, dtype=float)))


@register(
    "roc_auc_identity_bias",
    lower_is_better=False,
    best=1.0,
    description="Overall AUC blended with power means of subgroup, BPSN and BNSP AUCs (jigsaw).",
)
def roc_auc_identity_bias(
    y_true: Any,
    y_pred: Any,
    *,
    power: float = -5.0,
    weight: float = 0.25,
    threshold: float = 0.5,
    binarize_predictions: bool = True,
) -> float:
    """The unintended-bias AUC of jigsaw-unintended-bias-in-toxicity-classification.

    `y_true` is (rows x 1+k): column 0 the toxicity target, columns 1..k one identity each (empty
    identity cells, NaN, count as not mentioned). All are made 0/1 with `>= threshold`.
    `y_pred` is the predicted toxicity; MLE-bench also thresholds it before computing the AUCs
    (`binarize_predictions`). Score = weight * overall AUC + weight * sum over the three bias AUC
    kinds of (mean over identities of AUC**power) ** (1/power).
    """
    raw = np.asarray(y_true, dtype=float)
    if raw.ndim != 2 or raw.shape[1] < 2:
        raise MetricInputError("answers must have a target column followed by identity columns")
    target = as_float_array(raw[:, 0], "answers (target column)")
    y_pred = as_float_array(y_pred, "predictions", ndim=1)
    same_length(target, y_pred)
    toxic = target >= threshold
    identities = np.nan_to_num(raw[:, 1:], nan=0.0) >= threshold
    scores = (y_pred >= threshold).astype(float) if binarize_predictions else y_pred

    def auc(mask: np.ndarray, what: str) -> float:
        labels = toxic[mask].astype(float)
        if len(np.unique(labels)) < 2:
            raise MetricInputError(f"ROC AUC is undefined for {what}: it holds only one class")
        return float(skm.roc_auc_score(labels, scores[mask]))

    overall = auc(np.ones_like(toxic), "the whole test set")
    kinds: list[list[float]] = [[], [], []]
    for j in range(identities.shape[1]):
        member = identities[:, j]
        kinds[0].append(auc(member, f"identity column {j + 1} (subgroup)"))
        kinds[1].append(auc((~toxic & member) | (toxic & ~member), f"identity {j + 1} (BPSN)"))
        kinds[2].append(auc((toxic & member) | (~toxic & ~member), f"identity {j + 1} (BNSP)"))
    n = identities.shape[1]
    power_means = [(sum(s**power for s in kind) / n) ** (1 / power) for kind in kinds]
    return float(weight * overall + sum(weight * m for m in power_means))


# --------------------------------------------------------------------------------------------
# Log losses


@register(
    "log_loss_binary",
    lower_is_better=True,
    best=0.0,
    description="Mean binary cross-entropy of the predicted probability of class 1.",
)
def log_loss_binary(y_true: Any, y_pred: Any) -> float:
    """sklearn's log_loss: `y_true` 0/1, `y_pred` P(class 1) in [0, 1], clipped to [eps, 1-eps]
    with eps the float64 machine epsilon."""
    y_true = as_float_array(y_true, "answers", ndim=1)
    y_pred = as_float_array(y_pred, "predictions", ndim=1)
    same_shape(y_true, y_pred)
    if not np.isin(y_true, (0.0, 1.0)).all():
        raise MetricInputError("answers must be 0/1 labels")
    return sklearn_call(skm.log_loss, y_true, y_pred, labels=[0.0, 1.0])


@register(
    "log_loss_multiclass",
    lower_is_better=True,
    best=0.0,
    description="Mean multi-class cross-entropy of the probability given to the true class.",
)
def log_loss_multiclass(y_true: Any, y_pred: Any) -> float:
    """sklearn's log_loss on (rows x classes) probabilities.

    `y_true` is either one-hot (rows x classes) or 1-D class indices into the columns of `y_pred`.
    As in scikit-learn >= 1.5 (what MLE-bench runs), probabilities are clipped to
    [eps, 1-eps] (float64 machine epsilon) and rows are not re-normalised.
    """
    y_pred = as_float_array(y_pred, "predictions", ndim=2)
    y_true = as_float_array(y_true, "answers", ndim=(1, 2))
    if y_true.ndim == 1:
        same_length(y_true, y_pred)
        idx = y_true.astype(int)
        if (idx != y_true).any() or idx.min() < 0 or idx.max() >= y_pred.shape[1]:
            raise MetricInputError(
                f"answers must be class indices between 0 and {y_pred.shape[1] - 1}"
            )
        y_true = np.eye(y_pred.shape[1])[idx]
    same_shape(y_true, y_pred)
    if y_pred.shape[1] < 2:
        raise MetricInputError("multi-class log loss needs at least two class columns")
    if not np.isin(y_true, (0.0, 1.0)).all():
        raise MetricInputError("answers must be one-hot (0/1) rows")
    return sklearn_call(skm.log_loss, y_true, y_pred)


@register(
    "log_loss_multilabel_weighted",
    lower_is_better=True,
    best=0.0,
    description="Per-row weighted mean of binary log losses over targets, averaged over rows.",
)
def log_loss_multilabel_weighted(
    y_true: Any,
    y_pred: Any,
    *,
    positive_weights: Sequence[float] | None = None,
    negative_weights: Sequence[float] | None = None,
    eps: float = 1e-15,
) -> float:
    """rsna-2022-cervical-spine-fracture-detection's loss.

    `y_true`, `y_pred`: (rows x targets), answers 0/1, predictions clipped to [eps, 1-eps]. Target
    j of a row weighs positive_weights[j] when its answer is 1, negative_weights[j] when it is 0
    (all 1 when not given). Each row's loss is its weighted mean; the score is the mean over rows.
    """
    y_true = as_float_array(y_true, "answers", ndim=2)
    y_pred = as_float_array(y_pred, "predictions", ndim=2)
    same_shape(y_true, y_pred)
    if not np.isin(y_true, (0.0, 1.0)).all():
        raise MetricInputError("answers must be 0/1 labels")
    if y_pred.min() < 0 or y_pred.max() > 1:
        raise MetricInputError("predictions must be probabilities between 0 and 1")
    n_targets = y_true.shape[1]
    pos = np.ones(n_targets) if positive_weights is None else np.asarray(positive_weights, float)
    neg = np.ones(n_targets) if negative_weights is None else np.asarray(negative_weights, float)
    if pos.shape != (n_targets,) or neg.shape != (n_targets,):
        raise MetricInputError(f"weights must list one value per target ({n_targets} targets)")
    p = np.clip(y_pred, eps, 1 - eps)
    loss = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    w = y_true * pos + (1 - y_true) * neg
    return float(np.mean((loss * w).sum(axis=1) / w.sum(axis=1)))


# --------------------------------------------------------------------------------------------
# Label predictions


@register(
    "accuracy",
    lower_is_better=False,
    best=1.0,
    description="Fraction of rows whose predicted label equals the true label.",
)
def accuracy(y_true: Any, y_pred: Any) -> float:
    """sklearn's accuracy_score on 1-D labels (numbers, strings or booleans)."""
    y_true = labels_array(y_true, "answers")
    y_pred = labels_array(y_pred, "predictions")
    same_length(y_true, y_pred)
    if _all_text(y_true) and _all_text(y_pred):
        # what sklearn computes for text labels, without its checks that sort every label
        # (1.5 s for a million strings)
        return float(np.mean(y_true == y_pred))
    return sklearn_call(skm.accuracy_score, y_true, y_pred)


def _all_text(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "US" or (
        arr.dtype.kind == "O" and pd.api.types.infer_dtype(arr, skipna=False) == "string"
    )


@register(
    "top_1_error",
    lower_is_better=True,
    best=0.0,
    description="Fraction of rows whose first predicted class id is not the true class id.",
)
def top_1_error(y_true: Any, y_pred: Any) -> float:
    """1 - accuracy on integer class ids; a prediction may be a space-separated list of ids, of
    which only the first counts (inaturalist-2019)."""
    same_length(y_true, y_pred)
    truth = [first_class_id(v, "answers") for v in y_true]
    pred = [first_class_id(v, "predictions") for v in y_pred]
    return 1.0 - float(skm.accuracy_score(truth, pred))


def _f1(y_true: Any, y_pred: Any, average: str) -> float:
    y_true = labels_array(y_true, "answers")
    y_pred = labels_array(y_pred, "predictions")
    same_length(y_true, y_pred)
    with warnings.catch_warnings():  # labels never predicted get F1 0, as intended
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return sklearn_call(skm.f1_score, y_true, y_pred, average=average)


@register(
    "f1_micro",
    lower_is_better=False,
    best=1.0,
    description="F1 from true/false positives pooled over all classes (single-label rows).",
)
def f1_micro(y_true: Any, y_pred: Any) -> float:
    """sklearn's f1_score(average='micro') on 1-D labels."""
    return _f1(y_true, y_pred, "micro")


@register(
    "f1_macro",
    lower_is_better=False,
    best=1.0,
    description="Unweighted mean of per-class F1 over every class in answers or predictions.",
)
def f1_macro(y_true: Any, y_pred: Any) -> float:
    """sklearn's f1_score(average='macro') on 1-D labels; a class that appears only in the
    predictions counts with F1 0, as in scikit-learn."""
    return _f1(y_true, y_pred, "macro")


@register(
    "f1_micro_label_sets",
    lower_is_better=False,
    best=1.0,
    description="Micro F1 over rows of label sets; labels never in the answers are ignored.",
)
def f1_micro_label_sets(y_true: Any, y_pred: Any) -> float:
    """Micro-averaged F1 of multi-label rows (facebook-recruiting-iii, imet-2020,
    plant-pathology-2021).

    Each row is a whitespace-separated string of labels (or a list); missing cells are empty
    sets. Like MLE-bench's MultiLabelBinarizer fitted on the answers, a predicted label that never
    occurs in any answer row is dropped rather than counted as a false positive.
    F1 = 2 TP / (2 TP + FP + FN); 0 when nothing is true or predicted.
    """
    same_length(y_true, y_pred)
    truth = [set(tokens(v)) for v in y_true]
    vocabulary = set().union(*truth)
    tp = n_pred = n_true = 0
    for t, p in zip(truth, y_pred, strict=True):
        pred = vocabulary.intersection(tokens(p))
        tp += len(t & pred)
        n_pred += len(pred)
        n_true += len(t)
    fp, fn = n_pred - tp, n_true - tp
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


@register(
    "f1_probabilistic",
    lower_is_better=False,
    best=1.0,
    description="F-beta with probabilities as fractional true/false positives (rsna-breast).",
)
def f1_probabilistic(y_true: Any, y_pred: Any, *, beta: float = 1.0) -> float:
    """Probabilistic F-beta: predictions are clipped to [0, 1]; cTP = sum of predictions on
    positive rows, cFP = sum on negative rows; precision cTP/(cTP+cFP), recall cTP/#positives.

    Returns 0 when nothing at all is predicted (MLE-bench divides by zero there).
    """
    y_true = as_float_array(y_true, "answers", ndim=1)
    y_pred = as_float_array(y_pred, "predictions", ndim=1)
    same_shape(y_true, y_pred)
    positive = y_true != 0
    if not positive.any():
        raise MetricInputError("probabilistic F1 is undefined: the answers hold no positive row")
    p = np.clip(y_pred, 0.0, 1.0)
    ctp, cfp = float(p[positive].sum()), float(p[~positive].sum())
    if ctp + cfp == 0:
        return 0.0
    precision, recall = ctp / (ctp + cfp), ctp / float(positive.sum())
    if precision <= 0 or recall <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


@register(
    "mcc",
    lower_is_better=False,
    best=1.0,
    description="Matthews correlation coefficient of predicted and true labels.",
)
def mcc(y_true: Any, y_pred: Any) -> float:
    """sklearn's matthews_corrcoef (0 when a side holds a single class)."""
    y_true = labels_array(y_true, "answers")
    y_pred = labels_array(y_pred, "predictions")
    same_length(y_true, y_pred)
    return sklearn_call(skm.matthews_corrcoef, y_true, y_pred)


@register(
    "quadratic_weighted_kappa",
    lower_is_better=False,
    best=1.0,
    description="Cohen's kappa with quadratic disagreement weights between ordinal labels.",
)
def quadratic_weighted_kappa(y_true: Any, y_pred: Any) -> float:
    """sklearn's cohen_kappa_score(weights='quadratic'); weights use the rank of each label among
    the sorted labels of both sides. Undefined (one label in all) raises MetricInputError."""
    y_true = labels_array(y_true, "answers")
    y_pred = labels_array(y_pred, "predictions")
    same_length(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = sklearn_call(skm.cohen_kappa_score, y_pred, y_true, weights="quadratic")
    if math.isnan(value):
        raise MetricInputError("quadratic weighted kappa is undefined: every label is the same")
    return value


# --------------------------------------------------------------------------------------------
# Distributions and rankings of labels


@register(
    "kl_divergence",
    lower_is_better=True,
    best=0.0,
    description="Mean over rows of KL(true distribution || predicted distribution).",
)
def kl_divergence(
    y_true: Any, y_pred: Any, *, eps: float = 1e-15, normalize_answers: bool = True
) -> float:
    """hms-harmful-brain-activity-classification's KL divergence (Kaggle's micro average).

    `y_true`: (rows x classes) non-negative votes, divided by their row sum when
    `normalize_answers`; `y_pred`: rows of probabilities that sum to 1. Predictions are clipped to
    [eps, 1-eps]; cells whose answer is 0 contribute 0.
    """
    y_true = as_float_array(y_true, "answers", ndim=2)
    y_pred = as_float_array(y_pred, "predictions", ndim=2)
    same_shape(y_true, y_pred)
    if y_true.min() < 0:
        raise MetricInputError("answers must be non-negative")
    if normalize_answers:
        sums = y_true.sum(axis=1, keepdims=True)
        if (sums == 0).any():
            raise MetricInputError("some answer rows hold no votes at all")
        y_true = y_true / sums
    if y_pred.min() < 0 or y_pred.max() > 1:
        raise MetricInputError("predictions must be probabilities between 0 and 1")
    if not np.allclose(y_pred.sum(axis=1), 1):
        raise MetricInputError("each row of predictions must sum to 1")
    q = np.clip(y_pred, eps, 1 - eps)
    nonzero = y_true != 0
    terms = np.zeros_like(y_true)
    terms[nonzero] = y_true[nonzero] * np.log(y_true[nonzero] / q[nonzero])
    return float(np.mean(terms.sum(axis=1)))


@register(
    "label_weighted_lrap",
    lower_is_better=False,
    best=1.0,
    description="Label-weighted label-ranking average precision (lwlrap).",
)
def label_weighted_lrap(y_true: Any, y_pred: Any) -> float:
    """freesound-audio-tagging-2019's lwlrap: each row's label-ranking average precision (as
    sklearn's label_ranking_average_precision_score defines it, computed directly by
    `_ranking_precision`), weighted by its number of true labels; rows without labels are
    skipped. `y_true` (rows x classes), a label is true where the value is > 0; `y_pred` scores."""
    y_true = as_float_array(y_true, "answers", ndim=2)
    y_pred = as_float_array(y_pred, "predictions", ndim=2)
    same_shape(y_true, y_pred)
    weights = (y_true > 0).sum(axis=1)
    rows = np.flatnonzero(weights > 0)
    if not len(rows):
        raise MetricInputError("lwlrap is undefined: no answer row holds a label")
    truth, scores, weights = y_true[rows] > 0, y_pred[rows], weights[rows]
    if not np.isfinite(scores).all():
        raise MetricInputError("predictions must be finite numbers")
    precisions = np.concatenate(
        [
            _ranking_precision(truth[i : i + 1024], scores[i : i + 1024])
            for i in range(0, len(rows), 1024)
        ]
    )
    return float(np.sum(precisions * weights) / np.sum(weights))


def _ranking_precision(truth: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per row, what sklearn's label_ranking_average_precision_score averages: over the true
    labels j, (true labels scored >= j's score) / (labels scored >= j's score). Computed for all
    rows at once (sklearn ranks row by row, ~0.4 ms each)."""
    at_least = scores[:, None, :] >= scores[:, :, None]  # [row, j, k]: score k >= score j
    ranks = at_least.sum(axis=2)
    true_ranks = (at_least & truth[:, None, :]).sum(axis=2)
    ratio = np.where(truth, true_ranks / ranks, 0.0)
    return ratio.sum(axis=1) / truth.sum(axis=1)
