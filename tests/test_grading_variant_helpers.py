"""The checks that the rules' mlebench branches share (mlepipe.grading.checks): pairing by
position and truncating labels."""

from __future__ import annotations

import pandas as pd
import pytest

from mlepipe.grading.checks import (
    GradingSpec,
    InvalidSubmission,
    pair_by_position,
    truncated_to_int,
)


def _spec(extra_columns: str = "ignore") -> GradingSpec:
    return GradingSpec(
        metric="rmse", metric_params={}, id_columns=("id",), target_columns=("y",),
        prediction="number", rows_sum_to_one=False, sum_tolerance=1e-6,
        extra_columns=extra_columns, lower_is_better=None, metric_inputs={}, score_rows={},
        answer_columns={},
    )  # fmt: skip


ANSWERS = pd.DataFrame({"id": ["b", "a", "c"], "y": [2.0, 1.0, 3.0]})


def test_rows_pair_by_position_whatever_the_ids():
    sub = pd.DataFrame({"id": ["x", "y", "z"], "y": [10.0, 20.0, 30.0]})
    got, tmpl = pair_by_position(sub, ANSWERS, _spec())
    assert list(zip(got["y"], tmpl["y"], strict=True)) == [(10, 2), (20, 1), (30, 3)]
    # No id column at all is fine too: only the targets are read.
    got, _ = pair_by_position(sub[["y"]], ANSWERS, _spec())
    assert got["y"].tolist() == [10, 20, 30]


def test_sorting_first_pairs_the_nth_smallest_ids():
    sub = pd.DataFrame({"id": ["c2", "a2", "b2"], "y": [30.0, 10.0, 20.0]})
    got, tmpl = pair_by_position(sub, ANSWERS, _spec(), sort_by="id")
    assert tmpl["id"].tolist() == ["a", "b", "c"]
    assert got["y"].tolist() == [10, 20, 30]


@pytest.mark.parametrize(
    "sub, reason",
    [
        (pd.DataFrame({"id": ["a", "b"], "y": [1.0, 2.0]}), "rows, expected 3"),
        (pd.DataFrame({"id": ["a", "b", "c"]}), "missing column"),
        (pd.DataFrame({"id": ["a", "b", "c"], "y": [1.0, None, 3.0]}), "empty/NaN"),
        (pd.DataFrame({"id": ["a", "b", "c"], "y": ["1", "x", "3"]}), "non-numeric"),
    ],
)
def test_what_position_pairing_still_refuses(sub, reason):
    with pytest.raises(InvalidSubmission, match=reason):
        pair_by_position(sub, ANSWERS, _spec())


def test_refused_extra_columns_stay_refused():
    sub = ANSWERS.assign(extra=0)
    with pytest.raises(InvalidSubmission, match="3 columns, expected 2"):
        pair_by_position(sub, ANSWERS, _spec("refuse"))
    pair_by_position(sub, ANSWERS, _spec("ignore"))


def test_labels_are_cut_towards_zero_like_int():
    frame = pd.DataFrame({"label": [2.5, -2.5, 3.0, 0.99], "other": [1.5, 1.5, 1.5, 1.5]})
    got = truncated_to_int(frame, ["label"])
    assert got["label"].tolist() == [int(v) for v in frame["label"]] == [2, -2, 3, 0]
    assert got["other"].tolist() == frame["other"].tolist()
    # Cells int() cannot read are left for the checks to refuse.
    left = pd.DataFrame({"label": [1.5, float("nan")]})
    assert truncated_to_int(left, ["label"])["label"].isna().iloc[1]
    text = pd.DataFrame({"label": ["2.5", "x"]})
    assert truncated_to_int(text, ["label"]).equals(text)
