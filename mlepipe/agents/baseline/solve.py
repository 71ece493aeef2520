"""A competition's submission from its public files: a per-pixel task, or a table task whose
test rows are matched to the sample submission's."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mlepipe.agents.baseline import CannotModel
from mlepipe.agents.baseline.features import build_features, is_text
from mlepipe.agents.baseline.images import ImageIndex, find_image_column, read_images
from mlepipe.agents.baseline.models import fit_output, format_output
from mlepipe.agents.baseline.pixels import looks_like_pixel_task, solve_pixel_task
from mlepipe.agents.baseline.tables import Table, find_table, read_description, read_table
from mlepipe.agents.baseline.task import infer_task
from mlepipe.agents.contract import AgentEnv, Budget

log = logging.getLogger(__name__)

MAX_TRAIN_ROWS = 200_000  # larger training tables are subsampled
MAX_TRAIN_IMAGES = 20_000  # images read for training, at most


def solve(env: AgentEnv, sample: pd.DataFrame, budget: Budget, summary: dict) -> pd.DataFrame:
    """The submission for the competition in `env.data_dir`, in the sample's row order."""
    if find_table(env.data_dir, "train") is None and looks_like_pixel_task(sample):
        summary["task"] = {"kind": "per-pixel image regression"}
        return solve_pixel_task(env.data_dir, sample, env.seed, budget, summary)
    return solve_table_task(env, sample, budget, summary)


def _match_case(table: Table, names: list[str]) -> None:
    """Renames columns that differ from a sample-submission column only in letter case."""
    lower = {n.lower(): n for n in names}
    mapping = {
        c: lower[c.lower()]
        for c in table.frame.columns
        if c not in names and c.lower() in lower and lower[c.lower()] not in table.frame.columns
    }
    if mapping:
        table.frame = table.frame.rename(columns=mapping)
        if table.raw is not None:
            table.raw = table.raw.rename(columns=mapping)


def _row_order(sample: pd.DataFrame, test: Table | None, ids: list[str]) -> np.ndarray | None:
    """For each sample row, the test row with the same id values (None: no test table)."""
    if test is None:
        return None

    def key(get) -> pd.Series:
        k = get(ids[0])
        for c in ids[1:]:
            k = k + "\x1f" + get(c)
        return k.reset_index(drop=True)

    sample_key = key(lambda c: sample[c].astype(str))
    test_key = key(test.text)
    if len(sample_key) == len(test_key) and (sample_key.to_numpy() == test_key.to_numpy()).all():
        return np.arange(len(test_key))  # same rows in the same order (keeps repeated ids apart)
    first = pd.Series(np.arange(len(test_key))).groupby(test_key.to_numpy()).first()
    order = sample_key.map(first)
    if order.isna().any():
        missing = sample_key[order.isna()].head(3).tolist()
        raise CannotModel(f"sample-submission ids missing from the test table, e.g. {missing}")
    return order.astype(int).to_numpy()


def solve_table_task(
    env: AgentEnv, sample: pd.DataFrame, budget: Budget, summary: dict
) -> pd.DataFrame:
    train_path = find_table(env.data_dir, "train")
    if train_path is None:
        raise CannotModel("no training table (train.csv / train.json / ...) in the data folder")
    train = read_table(train_path, max_rows=MAX_TRAIN_ROWS)
    test_path = find_table(env.data_dir, "test")
    test = read_table(test_path) if test_path else None
    for table in (train, test):
        if table is not None:
            _match_case(table, list(sample.columns))
    description = read_description(env.data_dir)
    task = infer_task(sample, train, test, description)
    summary["task"] = {
        "train": train_path.name,
        "test": test_path.name if test_path else None,
        "id_columns": task.id_columns,
        "metric_hint": task.metric,
        "outputs": [o.describe() for o in task.outputs],
        "train_rows": len(train.frame),
        "test_rows": len(sample),
    }
    log.info(
        "task: ids %s; outputs %s; metric hint %s",
        task.id_columns,
        [o.describe() for o in task.outputs],
        task.metric,
    )

    order = _row_order(sample, test, task.id_columns)
    if test is not None:
        test_frame = test.frame.iloc[order].reset_index(drop=True)
    else:
        test_frame = sample[task.id_columns].copy()

    # Feature columns: shared by train and test, minus targets and plain identifiers.
    target_cols = {c for o in task.outputs for c in o.columns} | {
        c for c in train.frame.columns if test is not None and c not in test.frame.columns
    }
    shared = [c for c in train.frame.columns if c in test_frame.columns and c not in target_cols]
    feature_cols = [c for c in shared if c not in task.id_columns or is_text(train.frame[c])]

    rng = np.random.default_rng(env.seed)
    n = len(train.frame)
    train_rows = np.arange(n)
    if n > MAX_TRAIN_ROWS:
        train_rows = np.sort(rng.choice(n, MAX_TRAIN_ROWS, replace=False))
        log.info("training on %d of %d rows", MAX_TRAIN_ROWS, n)

    images = None
    index = ImageIndex(env.data_dir)
    if len(index):
        candidates_cols = list(dict.fromkeys(task.id_columns + shared))
        column = find_image_column(index, train, candidates_cols)
        if column is not None:
            if len(train_rows) > MAX_TRAIN_IMAGES:
                train_rows = np.sort(rng.choice(train_rows, MAX_TRAIN_IMAGES, replace=False))
            keys_test = test.text(column).iloc[order] if test is not None else sample[column]
            log.info(
                "reading images named by column '%s' (%d train, %d test)",
                column,
                len(train_rows),
                len(keys_test),
            )
            images = (
                read_images(index, train.text(column).iloc[train_rows], "train", budget),
                read_images(index, keys_test.astype(str), "test", budget),
            )
            summary["task"]["image_column"] = column

    train_features = train.frame[feature_cols].iloc[train_rows].reset_index(drop=True)
    features = build_features(train_features, test_frame[feature_cols], images, env.memory_mb)
    summary["features"] = features.notes
    log.info("features: %s", {k: v for k, v in features.notes.items() if k != "dropped"})

    out = sample.copy()
    summary["models"] = {}
    for output in task.outputs:
        output.y = output.y.iloc[train_rows].reset_index(drop=True)
        fitted = fit_output(
            output, features, np.arange(len(train_rows)), task.metric, env.seed, env.cpus, budget
        )
        for col, values in format_output(output, fitted.predictions, fitted.classes).items():
            out[col] = values
        summary["models"][output.describe()] = {
            "chosen": fitted.names,
            "holdout": fitted.holdout,
            "seconds": round(fitted.seconds, 2),
        }
    return out
