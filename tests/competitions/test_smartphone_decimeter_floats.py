"""smartphone-decimeter-2022's answers carry the coordinates as MLE-bench writes them: read with
pandas 2's default float parser, which MLE-bench's preparation uses and which rounds some
17-digit numbers to a neighbouring float (pandas 3 parses exactly)."""

from __future__ import annotations

import pandas as pd
import pytest

from fixtures import FixtureSource, load
from mlepipe.prepare import prepare
from mlepipe.preparers.errors import PreparationError

COMPETITION = "smartphone-decimeter-2022"

# Text -> the repr of the float pandas 2.2.3's read_csv gives for it by default (its C parser,
# float_precision=None), recorded from pandas 2.2.3; the first fourteen differ from the
# correctly rounded float.
PANDAS2 = [
    ("37.488671343399666", "37.48867134339967"),
    ("37.322641192930625", "37.32264119293063"),
    ("37.453145090325826", "37.45314509032583"),
    ("37.331920842471604", "37.3319208424716"),
    ("37.343096233844946", "37.34309623384495"),
    ("37.496484221765186", "37.49648422176519"),
    ("37.488195200217596", "37.4881952002176"),
    ("37.301815677363905", "37.30181567736391"),
    ("-122.18130915252043", "-122.18130915252044"),
    ("-122.05808271797683", "-122.05808271797684"),
    ("-121.99011927172275", "-121.99011927172276"),
    ("-122.06370378579831", "-122.06370378579832"),
    ("-121.95566898476295", "-121.95566898476297"),
    ("-121.83032095222889", "-121.83032095222887"),
    ("37.5", "37.5"),
    ("-0.0", "-0.0"),
    ("0.000123456789012345678", "0.0001234567890123"),
    ("12345678901234567890.5", "1.2345678901234567e+19"),
    ("1.5E-3", "0.0015"),
    ("007.25", "7.25"),
    ("123456789012345678901234", "1.2345678901234569e+23"),
]


@pytest.fixture(scope="module")
def module(registry):
    return registry.get(COMPETITION).module("prepare.py")


@pytest.mark.parametrize(("text", "pandas2"), PANDAS2)
def test_pandas2_float_gives_pandas_2s_float(module, text, pandas2):
    assert repr(module.pandas2_float(text)) == pandas2


def test_pandas2_float_refuses_what_is_no_number(module):
    with pytest.raises(PreparationError, match="is not a number"):
        module.pandas2_float("37.4.1")


def test_the_answers_hold_the_coordinates_as_pandas_2_read_them(registry, module, tmp_path):
    comp = registry.get(COMPETITION)
    raw = load(COMPETITION)
    prepare(comp, tmp_path, FixtureSource(raw), verify_reference=False)
    written = pd.read_csv(comp.answers_path(tmp_path), dtype=str)
    # The ground truth's own text, trip by trip in the answers' order.
    truths = sorted((tmp_path / COMPETITION / "raw" / "train").rglob("ground_truth.csv"))
    by_trip = {f"{p.parent.parent.name}-{p.parent.name}": p for p in truths}
    original = pd.concat(
        [pd.read_csv(by_trip[t], dtype=str) for t in dict.fromkeys(written["tripId"])],
        ignore_index=True,
    )
    assert len(original) == len(written)
    rounded = 0
    for column in ("LatitudeDegrees", "LongitudeDegrees"):
        for text, out in zip(original[column], written[column], strict=True):
            assert out == repr(module.pandas2_float(text))
            rounded += float(out) != float(text)
    assert rounded > 0  # the fixture's coordinates include some that pandas 2 rounds
