"""Candidate models for one output, scored on a holdout split; the best one (or a blend of the
two best) is refitted on every training row."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from mlepipe.agents.baseline import CannotModel, OutOfTime
from mlepipe.agents.baseline.features import Features
from mlepipe.agents.baseline.task import Output
from mlepipe.agents.contract import Budget, time_cap

log = logging.getLogger(__name__)


class TooSlow(RuntimeError):
    """One model ran past its share of the time."""


@dataclass
class Candidate:
    name: str
    make: Callable[[], Any]
    uses_tree_matrix: bool
    strength: float | None = None  # inverse regularisation of linear models
    no_images: bool = False  # leaves out the image columns


def linear_candidate(kind: str, strength: float) -> Candidate:
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind == "number":
        alpha = 10 / strength
        return Candidate(f"ridge(alpha={alpha:g})", partial(Ridge, alpha=alpha), False, strength)
    # tol=1e-3: as good on holdout as the default, in half the iterations on text
    make = partial(LogisticRegression, C=strength, max_iter=1000, tol=1e-3)
    return Candidate(f"logistic(C={strength:g})", make, False, strength)


def candidates(kind: str, n_classes: int, features: Features, n_rows: int, seed: int, cpus: int):
    """Models to try, cheapest first."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    regression = kind == "number"
    out = [linear_candidate(kind, 1.0), linear_candidate(kind, 8.0)]
    tree = features.tree_train
    if tree is None or not features.notes.get("tree_informative") or tree.shape[1] > 3_000:
        return out
    multiclass = n_classes > 2
    hgb = dict(
        max_iter=100 if multiclass else 200,
        learning_rate=0.1,
        l2_regularization=1.0,
        early_stopping=n_rows >= 1_000,
        n_iter_no_change=10,
        random_state=seed,
    )
    if regression:
        out.append(
            Candidate("hist_gradient_boosting", partial(HistGradientBoostingRegressor, **hgb), True)
        )
    elif n_classes <= 2 or n_classes * tree.shape[1] <= 2_000:  # cost grows with classes
        out.append(
            Candidate(
                "hist_gradient_boosting", partial(HistGradientBoostingClassifier, **hgb), True
            )
        )
    if n_rows * tree.shape[1] <= 3_000_000:
        forest = dict(n_estimators=200, n_jobs=cpus, random_state=seed)
        if regression:
            out.append(
                Candidate(
                    "random_forest",
                    partial(RandomForestRegressor, max_features=0.5, **forest),
                    True,
                )
            )
        else:
            out.append(Candidate("random_forest", partial(RandomForestClassifier, **forest), True))
    return out


def _matrix(features: Features, cand: Candidate, part: str):
    if cand.uses_tree_matrix:
        return features.tree_train if part == "train" else features.tree_test
    return features.linear_train if part == "train" else features.linear_test


def _predict(model, X, kind: str, classes: list[str]) -> np.ndarray:
    """Class probabilities in `classes` order (0 for classes the model never saw), or numbers."""
    if kind == "number":
        return np.asarray(model.predict(X), dtype=float)
    proba = model.predict_proba(X)
    out = np.zeros((proba.shape[0], len(classes)))
    position = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, position[str(c)]] = proba[:, j]
    return out


def _score(kind: str, metric: str | None, y_true: np.ndarray, pred: np.ndarray, classes) -> float:
    """Holdout score, higher is better."""
    from sklearn import metrics

    if kind == "number":
        if metric == "mae":
            return -metrics.mean_absolute_error(y_true, pred)
        if metric == "rmsle":
            clipped = np.maximum(y_true, 0), np.maximum(pred, 0)
            return -math.sqrt(metrics.mean_squared_log_error(*clipped))
        return -math.sqrt(metrics.mean_squared_error(y_true, pred))
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index[str(v)] for v in y_true])
    if kind == "classes" or (kind == "binary" and metric == "log_loss"):
        p = np.clip(pred, 1e-15, 1)
        p = p / p.sum(axis=1, keepdims=True)
        return -metrics.log_loss(codes, p, labels=range(len(classes)))
    if kind == "binary":
        return metrics.roc_auc_score(codes, pred[:, 1]) if len(set(codes)) == 2 else 0.0
    labels = pred.argmax(axis=1)
    if metric == "f1":
        return metrics.f1_score(codes, labels, average="macro")
    if metric == "kappa":
        return metrics.cohen_kappa_score(codes, labels, weights="quadratic")
    return metrics.accuracy_score(codes, labels)


@dataclass
class Answers:
    """One output's training answers, ready for fitting and scoring."""

    kind: str
    rows: np.ndarray  # training rows whose answer is known
    y: np.ndarray  # as scored: text labels, or numbers
    y_fit: np.ndarray  # as fitted: log1p(y) when the metric is logarithmic
    classes: list[str]  # column order of class probabilities
    log_target: bool

    @classmethod
    def of(cls, output: Output, train_rows: np.ndarray, metric: str | None) -> Answers:
        y_all = output.y.to_numpy()
        rows = train_rows[pd.notna(y_all[train_rows])]
        y = y_all[rows]
        if output.kind == "number":
            y = y.astype(float)
            log_target = metric == "rmsle" and bool((y >= 0).all())
            return cls("number", rows, y, np.log1p(y) if log_target else y, [], log_target)
        y = np.array([str(int(v)) if output.kind == "binary" else str(v) for v in y], dtype=object)
        if len(set(y)) < 2:
            raise CannotModel(f"{output.describe()}: the training answers hold a single class")
        classes = output.classes if output.kind in ("classes", "binary") else sorted(set(y))
        return cls(output.kind, rows, y, y, list(classes), False)

    def predict(self, model, X) -> np.ndarray:
        pred = _predict(model, X, self.kind, self.classes)
        return np.expm1(pred) if self.log_target else pred


class Holdout:
    """Fits candidates on 80% of the known rows and scores them on the other 20%."""

    def __init__(self, answers: Answers, metric: str | None, seed: int, label: str):
        from sklearn.model_selection import train_test_split

        self.answers, self.metric, self.label = answers, metric, label
        n = len(answers.rows)
        counts = pd.Series(answers.y).value_counts()
        stratify = answers.y if answers.kind != "number" and counts.min() >= 2 else None
        try:
            self.fit_idx, self.val_idx = train_test_split(
                np.arange(n), test_size=0.2, random_state=seed, stratify=stratify
            )
        except ValueError:  # too few rows of some class for a stratified split
            self.fit_idx, self.val_idx = train_test_split(
                np.arange(n), test_size=0.2, random_state=seed
            )
        self.preds: dict[str, np.ndarray] = {}
        self.scores: dict[str, float] = {}
        self.models: dict[str, Any] = {}

    def evaluate(self, cand: Candidate, features: Features, cap: float, name: str) -> float | None:
        """The holdout score of `cand` (higher is better), or None if it ran past `cap` s."""
        a = self.answers
        X = _matrix(features, cand, "train")
        started = time.monotonic()
        try:
            with time_cap(cap, TooSlow(name)):
                model = cand.make().fit(X[a.rows[self.fit_idx]], a.y_fit[self.fit_idx])
        except TooSlow:
            log.info("%s: %s did not fit within %.0f s; skipped", self.label, name, cap)
            return None
        pred = a.predict(model, X[a.rows[self.val_idx]])
        score = _score(a.kind, self.metric, a.y[self.val_idx], pred, a.classes)
        self.preds[name], self.scores[name], self.models[name] = pred, score, model
        log.info(
            "%s: %s holdout %.5f (fit %.1f s)", self.label, name, score, time.monotonic() - started
        )
        return score

    def blend_score(self, names: list[str]) -> float:
        blend = np.mean([self.preds[n] for n in names], axis=0)
        return _score(
            self.answers.kind,
            self.metric,
            self.answers.y[self.val_idx],
            blend,
            self.answers.classes,
        )


@dataclass
class Fitted:
    """The chosen model(s) for one output, with the holdout evidence."""

    names: list[str]
    predictions: np.ndarray  # on the test rows
    classes: list[str]  # column order of `predictions` for class outputs
    holdout: dict[str, float]
    seconds: float


def fit_output(
    output: Output,
    features: Features,
    train_rows: np.ndarray,
    metric: str | None,
    seed: int,
    cpus: int,
    budget: Budget,
) -> Fitted:
    """Picks the best candidate (or a blend of the two best) on a holdout split, then refits it on
    every training row and predicts the test rows."""
    started = time.monotonic()
    label = output.describe()
    answers = Answers.of(output, train_rows, metric)
    pool = candidates(answers.kind, len(answers.classes), features, len(answers.rows), seed, cpus)
    chosen, holdout = [pool[0]], None
    plain = features.without_images() if features.has_optional_images() else None
    if len(pool) > 1 and len(answers.rows) >= 60:
        holdout = Holdout(answers, metric, seed, label)
        chosen, tried = _select(holdout, pool, features, answers.kind, budget)
        if plain is not None:
            chosen = _try_without_images(holdout, chosen, tried, plain, budget)
        log.info("%s: chose %s", label, " + ".join(c.name for c in chosen))

    test_preds = []
    for cand in chosen:
        feats = plain if cand.no_images else features
        X = _matrix(feats, cand, "train")
        try:
            with time_cap(budget.left() * 0.9 / len(chosen), TooSlow(cand.name)):
                model = cand.make().fit(X[answers.rows], answers.y_fit)
        except TooSlow:
            if holdout is None or cand.name not in holdout.models:
                raise OutOfTime(f"{label}: {cand.name} did not fit in time") from None
            log.info("%s: no time to refit %s on all rows; using its holdout fit", label, cand.name)
            model = holdout.models[cand.name]
        test_preds.append(answers.predict(model, _matrix(feats, cand, "test")))
    prediction = np.mean(test_preds, axis=0)
    if answers.kind == "number":
        prediction = np.clip(prediction, answers.y.min(), answers.y.max())
    return Fitted(
        [c.name for c in chosen],
        prediction,
        answers.classes,
        holdout.scores if holdout else {},
        time.monotonic() - started,
    )


def _select(
    holdout: Holdout, pool: list[Candidate], features: Features, kind: str, budget: Budget
) -> tuple[list[Candidate], dict[str, Candidate]]:
    """Scores the candidates cheapest first; weakens the regularisation of linear models while
    that keeps helping. Returns the best, or the two best when their blend scores higher, and
    every candidate tried."""
    queue, tried = list(pool), {}
    previous: tuple[float, float] | None = None  # last linear model: (strength, score)
    while queue:
        cand = queue.pop(0)
        tried[cand.name] = cand
        # The first model may use half of the time left, each later one a quarter.
        cap = budget.left() * (0.25 if holdout.preds else 0.5)
        score = holdout.evaluate(cand, features, cap, cand.name)
        if score is None or cand.strength is None:
            continue
        if previous and previous[0] < cand.strength and previous[1] < score:
            if cand.strength < 512:
                queue.insert(0, linear_candidate(kind, cand.strength * 8))
        previous = (cand.strength, score)
    scored = [n for n in holdout.scores if n in tried]
    if not scored:
        raise OutOfTime(f"{holdout.label}: no model fitted in time")
    ranked = sorted(scored, key=lambda n: -holdout.scores[n])
    if len(ranked) >= 2:
        name = f"blend({ranked[0]}+{ranked[1]})"
        holdout.scores[name] = holdout.blend_score(ranked[:2])
        if holdout.scores[name] > holdout.scores[ranked[0]]:
            return [tried[n] for n in ranked[:2]], tried
    return [tried[ranked[0]]], tried


def _try_without_images(
    holdout: Holdout,
    chosen: list[Candidate],
    tried: dict[str, Candidate],
    plain: Features,
    budget: Budget,
) -> list[Candidate]:
    """Images beside informative table columns may only add noise: scores the best linear model
    without the image columns and takes it if it beats everything so far."""
    linear = [c for n, c in tried.items() if c.strength is not None and n in holdout.scores]
    if not linear:
        return chosen
    best_so_far = max(holdout.scores.values())
    base = max(linear, key=lambda c: holdout.scores[c.name])
    cand = replace(base, name=f"{base.name} without images", no_images=True)
    score = holdout.evaluate(cand, plain, budget.left() * 0.25, cand.name)
    return [cand] if score is not None and score > best_so_far else chosen


def format_output(output: Output, prediction: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Prediction columns for the submission."""
    if output.kind == "number":
        return {output.columns[0]: prediction}
    if output.kind == "binary":
        return {output.columns[0]: np.clip(prediction[:, 1], 0.0, 1.0)}
    if output.kind == "label":
        return {output.columns[0]: np.asarray(classes, dtype=object)[prediction.argmax(axis=1)]}
    # classes: keep every probability away from 0 so one miss cannot cost infinitely much
    p = np.clip(prediction, 1e-4, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return {c: p[:, i] for i, c in enumerate(output.columns)}
