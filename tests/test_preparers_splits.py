"""Facts about mlepipe.preparers.splits: the splits are those MLE-bench makes with
train_test_split, whether of rows, of ids that stand for groups, or within each group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.splits import (
    rows_in_group_order,
    split_ids,
    split_indices,
    split_within_groups,
)


def test_split_indices_are_the_rows_train_test_split_picks():
    frame = pd.DataFrame({"v": np.arange(50) * 3})
    train, test = train_test_split(frame, test_size=0.2, random_state=4)
    train_rows, test_rows = split_indices(len(frame), 0.2, 4)
    assert frame.take(train_rows).equals(train) and frame.take(test_rows).equals(test)


def test_rows_in_group_order_is_the_order_of_concatenated_split_groups():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": rng.integers(0, 200, 3000), "v": np.arange(3000)})
    # what MLE-bench does: one DataFrame per group, split the list, concatenate
    groups = list(frame.groupby("g"))
    train_groups, test_groups = train_test_split(groups, test_size=0.1, random_state=0)
    expected_test = pd.concat([g for _, g in test_groups])

    train_keys, test_keys = split_ids(sorted(frame["g"].unique()), test_size=0.1, random_state=0)
    got = frame.take(rows_in_group_order(frame["g"], test_keys))
    assert got.equals(expected_test)
    assert [k for k, _ in train_groups] == train_keys.tolist()


def test_split_ids_are_those_of_train_test_split_on_the_list():
    ids = [f"patient{i}" for i in range(30)]
    train, test = train_test_split(ids, test_size=0.1, random_state=42)
    got_train, got_test = split_ids(ids, test_size=0.1, random_state=42)
    assert got_train.tolist() == train and got_test.tolist() == test


def test_split_ids_refuses_fewer_than_two_ids():
    with pytest.raises(PreparationError, match="only 1 id"):
        split_ids(["only"], test_size=0.1, random_state=0)


def test_small_groups_keep_one_in_train_and_send_their_last_to_test():
    groups = {
        c: [({"n": i}, {}) for i in range(n)] for c, n in {"a": 1, "b": 2, "c": 4, "d": 10}.items()
    }
    train, test = split_within_groups(groups, 0.2, small_groups=True)
    assert [len(test[c]) for c in "abcd"] == [0, 1, 1, 2]
    assert test["c"] == groups["c"][-1:]
    with pytest.raises(PreparationError, match="single sample"):
        split_within_groups({"a": groups["a"]}, 0.2, small_groups=False)
