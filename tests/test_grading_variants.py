"""The two grading variants: every declared rule has a case on which the variants' verdicts
differ, and each variant gives the verdict expected of it (tests/variant_cases/)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from variant_cases import INVALID, Prepared, case_modules

from fixtures import FixtureSource, load
from mlepipe.grading import variants
from mlepipe.grading.checks import InvalidSubmission
from mlepipe.grading.scoring import load_answers, round_score, score_frames
from mlepipe.prepare import prepare
from mlepipe.registry import Registry

REGISTRY = Registry()
MODULES = case_modules()
RULES = [d for d in variants.all_deviations(REGISTRY)]


def _case_ids() -> list[tuple[str, str]]:
    return [(cid, rule) for cid, m in MODULES.items() for rule in m.CASES]


def test_every_rule_has_a_case_and_every_case_a_rule():
    declared = {(d.competition, d.rule) for d in RULES}
    cased = set(_case_ids())
    assert declared - cased == set(), "rules without a case in tests/variant_cases/"
    assert cased - declared == set(), "cases of rules no competition declares"


def test_branching_on_an_undeclared_rule_is_an_error():
    comp = REGISTRY.get("h-and-m-personalized-fashion-recommendations")
    with pytest.raises(KeyError, match="not declared"):
        variants.follows_mlebench(comp, "no-such-rule")
    with pytest.raises(ValueError, match="unknown grading variant"):
        with variants.variant("kaggle"):
            pass


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    cache: dict[str, Prepared] = {}

    def get(cid: str) -> Prepared:
        if cid not in cache:
            comp = REGISTRY.get(cid)
            data = tmp_path_factory.mktemp(cid)
            module = load(cid)
            prepare(comp, data, FixtureSource(module), verify_reference=False)
            answers = load_answers(comp.answers_path(data))
            perfect = (
                module.to_submission(answers, comp) if hasattr(module, "to_submission") else answers
            )
            import pandas as pd

            sample = pd.read_csv(comp.sample_submission_path(data))
            cache[cid] = Prepared(comp, data, answers, sample, perfect)
        return cache[cid]

    return get


def _verdict(submission, p: Prepared):
    try:
        return round_score(score_frames(submission, p.answers, p.competition))
    except InvalidSubmission:
        return INVALID


def _same(got, want) -> bool:
    if want == INVALID or got == INVALID:
        return got == want
    if math.isnan(want) or math.isnan(got):  # MLE-bench reports a NaN score as valid
        return math.isnan(want) and math.isnan(got)
    return math.isclose(got, want, rel_tol=0, abs_tol=1e-5)


@pytest.mark.parametrize("cid,rule", _case_ids(), ids=[f"{c}/{r}" for c, r in _case_ids()])
def test_the_variants_differ_as_the_rule_says(cid, rule, prepared):
    p = prepared(cid)
    submission, expected, *answers = MODULES[cid].CASES[rule](p)
    if answers:  # the case's own answers, where the fixture's cannot show the rule
        p = Prepared(p.competition, p.data_dir, answers[0], p.sample, p.perfect)
    assert not _same(expected["mlebench"], expected["corrected"]), "a case must tell them apart"
    got = {}
    for name in variants.VARIANTS:
        with variants.variant(name):
            got[name] = _verdict(submission.copy(), p)
    assert _same(got["mlebench"], expected["mlebench"]), got
    assert _same(got["corrected"], expected["corrected"]), got


def test_the_committed_list_of_rules_is_up_to_date():
    doc = Path(__file__).resolve().parents[1] / "docs" / "grading-variants.md"
    assert doc.read_text() == variants.rules_markdown(REGISTRY), (
        "docs/grading-variants.md is out of date: run `python scripts/grading_rules_doc.py`"
    )
    for d in RULES:
        assert f"| {d.competition} | `{d.rule}` |" in doc.read_text()
