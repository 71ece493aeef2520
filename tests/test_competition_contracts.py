"""The preparation and grading contract of every competition, on synthetic raw data built in the
exact layout of its Kaggle download (tests/fixtures/<id>.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mutations
from fixtures import FixtureSource, fixture_ids, load
from mlepipe.grading.checks import (
    GradingSpec,
    InvalidSubmission,
    check_against_sample,
    read_csv_submission,
)
from mlepipe.grading.medals import rank, read_thresholds_table
from mlepipe.grading.scoring import load_answers, lower_is_better, round_score, score_frames
from mlepipe.metrics import get_metric
from mlepipe.prepare import prepare, prepared_checksums

IDS = fixture_ids()


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }  # fmt: skip


@pytest.fixture(scope="module", params=IDS)
def prepared(request, tmp_path_factory, registry):
    cid = request.param
    comp = registry.get(cid)
    module = load(cid)
    data = tmp_path_factory.mktemp(f"fx-{cid[:40]}")
    prepare(comp, data, FixtureSource(module), verify_reference=False)
    return comp, module, data


def _submission_from_answers(comp, module, data) -> pd.DataFrame:
    answers = load_answers(comp.answers_path(data))
    if hasattr(module, "to_submission"):
        return module.to_submission(answers, comp)
    assert isinstance(answers, pd.DataFrame), "jsonl answers need to_submission() in the fixture"
    return answers


def _score(comp, sub: pd.DataFrame, data, tmp_path: Path) -> float:
    path = tmp_path / "submission.csv"
    sub.to_csv(path, index=False)
    frame = read_csv_submission(path)
    return round_score(score_frames(frame, load_answers(comp.answers_path(data)), comp))


def _default_perturb(sub: pd.DataFrame, rng, comp) -> pd.DataFrame:
    spec = GradingSpec.of(comp)
    targets = spec.targets(sub)
    out = sub.copy()
    if spec.prediction == "number":
        for col in targets:
            y = out[col].astype(float)
            out[col] = y + (y.std() + 1.0) * rng.standard_normal(len(y))
    elif spec.prediction == "probability" and spec.rows_sum_to_one:
        out[targets] = np.roll(out[targets].to_numpy(), 1, axis=1)
    elif spec.prediction == "probability":
        for col in targets:
            out[col] = 1.0 - out[col].astype(float)
    else:
        for col in targets:
            out[col] = np.roll(out[col].to_numpy(), 1)
    return out


def test_expected_files_exist(prepared):
    comp, _, data = prepared
    assert comp.answers_path(data).is_file()
    assert comp.sample_submission_path(data).is_file()
    public = comp.public_dir(data)
    assert (public / "description.md").is_file()
    assert any(p.name != "description.md" for p in public.iterdir())


def test_prepares_the_files_mlebench_checksums(prepared):
    """Synthetic data have other bytes, but the same names: those MLE-bench publishes MD5s for
    (competitions/<id>/reference_checksums.yaml), which preparing the real data checks."""
    comp, _, data = prepared
    if comp.reference_checksums is None:
        pytest.skip("MLE-bench publishes no checksums for it")
    checksums = prepared_checksums(comp, data)
    names = {f"{side}/{name}" for side, files in checksums.items() for name in files}
    assert names == set(comp.reference_checksums["prepared"])


def test_public_test_files_hold_no_answer_column(prepared):
    comp, module, data = prepared
    answers = load_answers(comp.answers_path(data))
    if not isinstance(answers, pd.DataFrame):
        pytest.skip("answers are JSON lines")
    spec = GradingSpec.of(comp)
    targets = set(spec.targets(answers)) - set(spec.id_columns)
    # Columns a public test file legitimately shares with the answers (e.g. a baseline value).
    inputs = getattr(module, "PUBLIC_INPUT_COLUMNS", {})
    for path in comp.public_dir(data).glob("*.csv"):
        if "test" in path.name.lower() and path != comp.sample_submission_path(data):
            cols = set(pd.read_csv(path, nrows=5).columns) - set(inputs.get(path.name, ()))
            assert not cols & targets, f"{path.name} holds answer column(s) {cols & targets}"


def test_sample_submission_and_answers_share_ids(prepared):
    comp, module, data = prepared
    spec = GradingSpec.of(comp)
    if not spec.id_columns:
        pytest.skip("rows are not identified by an id column")
    answers = load_answers(comp.answers_path(data))
    sample = pd.read_csv(comp.sample_submission_path(data))
    if not isinstance(answers, pd.DataFrame) or not set(spec.id_columns) <= set(answers.columns):
        pytest.skip("answers are not a table with the submission's id columns")
    key = list(spec.id_columns)
    a = set(map(tuple, answers[key].astype(str).to_numpy()))
    s = set(map(tuple, sample[key].astype(str).to_numpy()))
    if getattr(module, "ANSWER_IDS_SUBSET_OF_SAMPLE", False):
        assert a <= s and a  # the sample asks for more rows than are scored
    else:
        assert a == s


def test_preparation_is_deterministic(prepared, tmp_path):
    comp, module, data = prepared
    prepare(comp, tmp_path, FixtureSource(module), verify_reference=False)
    assert tree_digest(comp.prepared_dir(tmp_path)) == tree_digest(comp.prepared_dir(data))


def test_sample_submission_is_valid(prepared, tmp_path):
    comp, _, data = prepared
    sample = read_csv_submission(comp.sample_submission_path(data))
    check_against_sample(sample, pd.read_csv(comp.sample_submission_path(data)), comp)
    _score(comp, sample, data, tmp_path)  # scores without raising


def test_answers_earn_the_best_score_and_gold(prepared, tmp_path, request):
    comp, module, data = prepared
    score = _score(comp, _submission_from_answers(comp, module, data), data, tmp_path)
    best = getattr(module, "BEST_SCORE", get_metric(comp.metric_name).best)
    assert score == pytest.approx(best, abs=1e-4)
    shared = Path(request.config.rootpath).parent / "shared" / "mlebench-reference"
    if getattr(module, "SKIP_MEDAL_CHECK", None):
        pytest.skip(module.SKIP_MEDAL_CHECK)
    if not (shared / "thresholds.csv").is_file():
        pytest.skip("official thresholds (../shared/mlebench-reference) not present")
    official = read_thresholds_table(shared / "thresholds.csv").get(comp.id)
    if official is None:
        pytest.skip(f"{comp.id} has no official thresholds")
    assert rank(score, official).gold_medal


def test_perturbed_submission_scores_worse(prepared, tmp_path):
    comp, module, data = prepared
    rng = np.random.default_rng(1)
    perfect = _submission_from_answers(comp, module, data)
    perturb = getattr(module, "perturb", _default_perturb)
    worse = _score(comp, perturb(perfect, rng, comp), data, tmp_path)
    best = _score(comp, perfect, data, tmp_path)
    assert (worse > best) if lower_is_better(comp) else (worse < best)


def test_malformed_submissions_are_rejected_with_a_reason(prepared, tmp_path):
    comp, module, data = prepared
    perfect = _submission_from_answers(comp, module, data)
    spec = GradingSpec.of(comp)
    cases = {"a row missing": perfect.iloc[1:], "a column missing": perfect.iloc[:, :-1]}
    if spec.id_columns and len(perfect) > 1:
        dup = perfect.copy()
        for col in spec.id_columns:  # every id column, so composite ids repeat too
            dup.iloc[1, dup.columns.get_loc(col)] = dup.iloc[0][col]
        cases["a duplicated id"] = dup
    for name, frame in cases.items():
        with pytest.raises(InvalidSubmission) as err:
            _score(comp, frame, data, tmp_path)
        assert str(err.value).strip(), name


# Where the answers alone decide, the validator asks for more than the grader (the list in
# mlepipe/grading/checks.py): a submission it refuses may still be graded.
VALIDATOR_STRICTER = {
    "h-and-m-personalized-fashion-recommendations": "every customer of the sample is asked for",
    "jigsaw-toxic-comment-classification-challenge": "unscored rows must hold numbers too",
    "osic-pulmonary-fibrosis-progression": "unscored rows must hold an FVC too",
}


def _verdicts(comp, frame: pd.DataFrame, data: Path, tmp_path: Path) -> tuple[str | None, ...]:
    """(validator's reason, grader's reason) for one submission; None means valid."""
    path = tmp_path / "submission.csv"
    frame.to_csv(path, index=False)
    sample = pd.read_csv(comp.sample_submission_path(data))
    reasons: list[str | None] = []
    for check in (
        lambda sub: check_against_sample(sub, sample, comp),
        lambda sub: score_frames(sub, load_answers(comp.answers_path(data)), comp),
    ):
        try:
            check(read_csv_submission(path))
            reasons.append(None)
        except InvalidSubmission as exc:
            reasons.append(str(exc))
    return tuple(reasons)


def test_validator_and_grader_agree_on_mutated_submissions(prepared, tmp_path):
    # What `mlepipe validate` accepts, the grader accepts, and what it refuses, the grader refuses
    # (except where the validator is knowingly stricter); cells the metric cannot read, both
    # refuse.
    comp, module, data = prepared
    spec = GradingSpec.of(comp)
    stricter = comp.id in VALIDATOR_STRICTER
    bases = {
        "sample": read_csv_submission(comp.sample_submission_path(data)),
        "perfect": _submission_from_answers(comp, module, data),
    }
    column = spec.targets(bases["sample"])[0]
    refused = mutations.refused(comp)
    for base_name, base in bases.items():
        for name, make in {**mutations.GENERIC, **refused}.items():
            for rows in ("one", "all"):
                frame = mutations.mutate(base, column, rows, make)
                validator, grader = _verdicts(comp, frame, data, tmp_path)
                case = (base_name, name, rows, validator, grader)
                if validator is None:
                    assert grader is None, case
                elif not stricter:
                    assert grader is not None, case
                if name in refused:
                    assert validator is not None and grader is not None, case
