"""The readers of prediction cells that the metrics and `mlepipe validate` share
(mlepipe.formats)."""

from __future__ import annotations

import pytest

from mlepipe.formats import PREDICTION_CHECKS, check_predictions
from mlepipe.metrics import METRICS, MetricInputError, get_metric


def test_every_checked_metric_is_registered():
    # A misspelt name would silently leave that metric's cells unchecked by the validator.
    assert set(PREDICTION_CHECKS) <= set(METRICS)


def test_runs_overlapping_past_the_image_are_refused_only_where_its_size_is_private():
    # A 2x2 image: runs of pixels 3-6 and 5-6 overlap only past its last pixel (4).
    cells = ["3 4 5 2"]
    assert get_metric("dice_mean").fn(["3 2"], cells, height=2, width=2) == 1.0
    check_predictions("dice_mean", cells, params={"height": 2, "width": 2})
    check_predictions("dice_global", cells, params={"height": [2], "width": [2]})
    with pytest.raises(MetricInputError, match="predicted mask 0: RLE runs overlap"):
        check_predictions("dice_mean", cells)


def test_orderings_must_hold_the_cells_of_the_sample_submission():
    check_predictions("kendall_tau_orderings", ["b a", "c"], sample_cells=["a b", "c"])
    with pytest.raises(MetricInputError, match="prediction 1 must order exactly the items"):
        check_predictions("kendall_tau_orderings", ["b a", "d"], sample_cells=["a b", "c"])
    with pytest.raises(MetricInputError, match="prediction 0 has an empty ordering"):
        check_predictions("kendall_tau_orderings", [None], sample_cells=["a"])
