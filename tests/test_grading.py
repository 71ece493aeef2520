"""Submission checks and scoring through the generic engine, on the practice competitions (and on
small frames for the grading blocks of a few real ones).

Every invalid case gives valid_submission false and a readable reason, never an exception."""

import json

import numpy as np
import pandas as pd
import pytest

from mlepipe.cli import main as cli
from mlepipe.grading.checks import InvalidSubmission
from mlepipe.grading.leaderboards import LeaderboardSource
from mlepipe.grading.report import EXTRA_FIELDS, MLEBENCH_FIELDS, grade_submission
from mlepipe.grading.scoring import score_frames

NONE = LeaderboardSource.parse("none")


def answers(data, registry, cid):
    return pd.read_csv(registry.get(cid).answers_path(data))


def grade(tmp_path, data, registry, cid, frame_or_text, name="submission.csv"):
    path = tmp_path / name
    if isinstance(frame_or_text, pd.DataFrame):
        frame_or_text.to_csv(path, index=False)
    elif isinstance(frame_or_text, bytes):
        path.write_bytes(frame_or_text)
    elif frame_or_text is not None:
        path.write_text(frame_or_text)
    return grade_submission(path, registry.get(cid), data, NONE)


def wine_perfect(data, registry):
    return answers(data, registry, "practice-wine").astype({"class_0": float})


@pytest.mark.parametrize(
    "cid", ["practice-breast-cancer", "practice-wine", "practice-diabetes", "practice-digits"]
)
def test_answers_as_submission_earn_the_best_score(tmp_path, practice_data, registry, cid):
    from mlepipe.metrics import get_metric

    report = grade(tmp_path, practice_data, registry, cid, answers(practice_data, registry, cid))
    assert report.valid_submission, report.invalid_reason
    assert report.score == pytest.approx(get_metric(registry.get(cid).metric_name).best, abs=1e-4)


@pytest.mark.parametrize(
    "cid", ["practice-breast-cancer", "practice-wine", "practice-diabetes", "practice-digits"]
)
def test_sample_submission_is_valid(practice_data, registry, cid):
    comp = registry.get(cid)
    report = grade_submission(comp.sample_submission_path(practice_data), comp, practice_data, NONE)
    assert report.valid_submission, report.invalid_reason
    assert report.submission_exists


def test_rows_are_paired_by_id_not_position(tmp_path, practice_data, registry):
    shuffled = answers(practice_data, registry, "practice-diabetes").sample(frac=1, random_state=1)
    report = grade(tmp_path, practice_data, registry, "practice-diabetes", shuffled)
    assert report.score == 0.0


def invalid_cases(a: pd.DataFrame):
    """(name, submission, expected fragment of the reason) for practice-wine's answers `a`."""
    probs = a.copy()
    yield "missing column", probs.drop(columns=["class_2"]), "missing column"
    yield "extra column refused", probs.assign(extra=1), "unexpected column"
    yield "too few rows", probs.iloc[1:], "rows, expected"
    dup = probs.copy()
    dup.loc[dup.index[1], "id"] = dup.loc[dup.index[0], "id"]
    yield "duplicate id", dup, "duplicate id"
    unknown = probs.copy()
    unknown.loc[unknown.index[0], "id"] = 99999
    yield "unknown id", unknown, "unknown id"
    text = probs.astype({"class_0": object})
    text.loc[text.index[0], "class_0"] = "high"
    yield "non-numeric", text, "non-numeric"
    nan = probs.astype({"class_0": float})
    nan.loc[nan.index[0], "class_0"] = float("nan")
    yield "NaN", nan, "empty/NaN"
    inf = probs.astype({"class_0": float})
    inf.loc[inf.index[0], "class_0"] = float("inf")
    yield "inf", inf, "infinite"
    neg = probs.astype({"class_0": float, "class_1": float})
    neg.loc[neg.index[0], ["class_0", "class_1"]] = [-0.5, 1.5]
    yield "out of [0,1]", neg, "probabilities in [0, 1]"
    half = probs.astype({"class_0": float, "class_1": float, "class_2": float}) / 2
    half["id"] = probs["id"]
    yield "rows not summing to one", half, "do not sum to 1"


@pytest.mark.parametrize("case", range(10))
def test_invalid_submissions_have_reasons(tmp_path, practice_data, registry, case):
    name, frame, fragment = list(invalid_cases(answers(practice_data, registry, "practice-wine")))[
        case
    ]
    report = grade(tmp_path, practice_data, registry, "practice-wine", frame)
    assert not report.valid_submission, name
    assert report.score is None
    assert fragment in report.invalid_reason, (name, report.invalid_reason)


@pytest.mark.parametrize(
    "content, name, fragment",
    [
        (None, "submission.csv", "no submission file"),
        ("id,label\n1,2\n", "submission.txt", "not a .csv"),
        ("", "submission.csv", "empty"),
        (b"id,label\n\xff\xfe,1\n", "submission.csv", "not UTF-8"),
        ('id,label\n"1,2\n', "submission.csv", "not a readable CSV"),
    ],
)
def test_unreadable_files_are_invalid(tmp_path, practice_data, registry, content, name, fragment):
    report = grade(tmp_path, practice_data, registry, "practice-digits", content, name)
    assert not report.valid_submission
    assert fragment in report.invalid_reason
    assert report.submission_exists == (content is not None and name.endswith(".csv"))


def test_labels_must_not_be_empty(tmp_path, practice_data, registry):
    a = answers(practice_data, registry, "practice-digits").astype({"label": object})
    a.loc[a.index[0], "label"] = None
    report = grade(tmp_path, practice_data, registry, "practice-digits", a)
    assert "empty cell" in report.invalid_reason


def test_report_has_mlebench_fields_then_ours(tmp_path, practice_data, registry):
    report = grade(
        tmp_path,
        practice_data,
        registry,
        "practice-digits",
        answers(practice_data, registry, "practice-digits"),
    )
    d = report.to_dict()
    assert tuple(d)[: len(MLEBENCH_FIELDS)] == MLEBENCH_FIELDS
    assert set(EXTRA_FIELDS) <= set(d) and not set(EXTRA_FIELDS) & set(MLEBENCH_FIELDS)
    json.dumps(d)  # serialisable as it is
    assert d["score"] == 1.0 and d["practice"] is True and d["any_medal"] is False


def test_scores_are_rounded_to_five_decimals(tmp_path, practice_data, registry):
    a = answers(practice_data, registry, "practice-diabetes")
    a["target"] = a["target"] + 0.123456789
    report = grade(tmp_path, practice_data, registry, "practice-diabetes", a)
    assert report.score == 0.12346


def test_cli_validate_uses_public_files_only(tmp_path, practice_data, registry, capsys):
    comp = registry.get("practice-wine")
    public = comp.public_dir(practice_data)
    good = tmp_path / "good.csv"
    pd.read_csv(public / "sample_submission.csv").to_csv(good, index=False)
    assert cli(["validate", str(good), comp.id, "--public-dir", str(public)]) == 0
    bad = tmp_path / "bad.csv"
    pd.read_csv(public / "sample_submission.csv").iloc[:3].to_csv(bad, index=False)
    assert cli(["validate", str(bad), comp.id, "--public-dir", str(public)]) == 1
    assert "rows, expected" in capsys.readouterr().out


def test_cli_grade_sample_and_jsonl(tmp_path, practice_data, registry, capsys):
    comp = registry.get("practice-digits")
    sub = comp.sample_submission_path(practice_data)
    assert cli(["grade-sample", str(sub), comp.id, "--data-dir", str(practice_data)]) == 0
    assert json.loads(capsys.readouterr().out)["valid_submission"] is True
    jsonl = tmp_path / "subs.jsonl"
    jsonl.write_text(
        json.dumps({"competition_id": comp.id, "submission_path": str(sub)})
        + "\n"
        + "# a comment line\n"
        + json.dumps({"competition_id": comp.id, "submission_path": str(tmp_path / "nope.csv")})
        + "\n"
    )
    out = tmp_path / "out"
    assert (
        cli(
            [
                "grade",
                "--submissions",
                str(jsonl),
                "--data-dir",
                str(practice_data),
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    (report,) = out.glob("*_grading_report.json")
    summary = json.loads(report.read_text())
    assert summary["total_runs"] == 2 and summary["total_valid_submissions"] == 1


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    assert cli(["grade-sample", "x.csv", "no-such-competition", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlepipe: error: unknown competition") and "\n" not in err


def test_numeric_ids_compare_as_numbers(tmp_path, practice_data, registry):
    a = answers(practice_data, registry, "practice-diabetes")
    a["id"] = a["id"].astype(float)  # written as 12.0 instead of 12
    report = grade(tmp_path, practice_data, registry, "practice-diabetes", a)
    assert report.valid_submission and report.score == 0.0


def test_competitions_without_kaggle_medals_are_still_ranked(tmp_path, registry):
    from mlepipe.grading.medals import Thresholds

    comp = registry.get("spooky-author-identification")
    assert not comp.awards_medals
    table = tmp_path / "thresholds.csv"
    table.write_text(
        "competition_id,gold_threshold,silver_threshold,bronze_threshold,median_threshold,"
        "is_lower_better\nspooky-author-identification,0.2,0.3,0.4,0.5,True\n"
    )
    t = LeaderboardSource.parse(str(table)).thresholds(comp)
    assert isinstance(t, Thresholds) and t.gold == 0.2 and t.lower_is_better
    assert LeaderboardSource.parse(str(table)).thresholds(registry.get("practice-wine")) is None


def test_vinbigdata_numbers_predicted_boxes_in_submission_order(registry):
    # MLE-bench's pycocotools call gives id 0 (the "unmatched" id) to the first box of the
    # submission's first row: the same boxes in another row order can score differently.
    comp = registry.get("vinbigdata-chest-xray-abnormalities-detection")
    answers = pd.DataFrame(
        {"image_id": ["a", "b"], "class_id": [0, 0], "x_min": [10, 30], "y_min": [10, 30],
         "x_max": [20, 40], "y_max": [20, 40]}
    )  # fmt: skip
    rows = {"a": "0 0.7 10 10 20 20", "b": "0 0.9 30 30 40 40 0 0.8 30 30 40 40"}
    in_order = pd.DataFrame({"image_id": ["a", "b"], "PredictionString": [rows["a"], rows["b"]]})
    reversed_ = in_order.iloc[::-1].reset_index(drop=True)
    assert score_frames(in_order, answers, comp) == pytest.approx(51 / 101)
    assert score_frames(reversed_, answers, comp) == 1.0


def test_declared_score_rows_count_only_the_selected_rows(registry):
    # ventilator-pressure-prediction scores only the inspiratory phase (u_out == 0).
    comp = registry.get("ventilator-pressure-prediction")
    answers = pd.DataFrame({"id": [1, 2, 3, 4], "u_out": [0, 0, 1, 1], "pressure": [1.0] * 4})
    off_when_unscored = pd.DataFrame({"id": [4, 3, 2, 1], "pressure": [9.0, 9.0, 1.0, 3.0]})
    assert score_frames(off_when_unscored, answers, comp) == 1.0
    unreadable = off_when_unscored.assign(pressure=["x", 9.0, 1.0, 3.0])
    with pytest.raises(InvalidSubmission, match="non-numeric"):  # unscored rows are checked too
        score_frames(unreadable, answers, comp)


def test_declared_metric_inputs_come_from_the_answers(registry):
    # champs-scalar-coupling: log(MAE) per coupling type, the type taken from the answers.
    comp = registry.get("champs-scalar-coupling")
    answers = pd.DataFrame(
        {"id": [1, 2, 3, 4], "type": ["1JHC", "1JHC", "2JHH", "2JHH"],
         "scalar_coupling_constant": [0.0] * 4}
    )  # fmt: skip
    submission = pd.DataFrame({"id": [1, 2, 3, 4], "scalar_coupling_constant": [1, 3, 4, 4.0]})
    assert score_frames(submission, answers, comp) == pytest.approx((np.log(2) + np.log(4)) / 2)


def test_declared_answer_columns_pair_differently_named_targets(registry):
    # hubmap-kidney-segmentation: the answers hold the submission's `predicted` as `encoding`.
    comp = registry.get("hubmap-kidney-segmentation")
    answers = pd.DataFrame(
        {"id": ["a", "b"], "encoding": ["1 4", "1 2"], "width_pixels": [2, 2],
         "height_pixels": [2, 2]}
    )  # fmt: skip
    submission = pd.DataFrame({"id": ["b", "a"], "predicted": ["1 1", "1 4"]})
    assert score_frames(submission, answers, comp) == pytest.approx((1 + 2 / 3) / 2)
    with pytest.raises(InvalidSubmission, match="missing column"):
        score_frames(submission.rename(columns={"predicted": "encoding"}), answers, comp)


def test_inaturalist_reads_the_first_of_several_class_ids_in_validate_and_grade(tmp_path):
    # As in MLE-bench: a cell may list several class ids; only the first is scored.
    from fixtures import FixtureSource, load
    from mlepipe.grading.checks import check_against_sample
    from mlepipe.grading.scoring import load_answers
    from mlepipe.prepare import prepare
    from mlepipe.registry import Registry

    comp = Registry().get("inaturalist-2019-fgvc6")
    prepare(comp, tmp_path, FixtureSource(load(comp.id)), verify_reference=False)
    answers = load_answers(comp.answers_path(tmp_path))
    sample = pd.read_csv(comp.sample_submission_path(tmp_path))
    several = answers.assign(predicted=answers["predicted"].astype(str) + " 7 9")
    check_against_sample(several, sample, comp)
    assert score_frames(several, answers, comp) == 0.0
    wrong_first = answers.assign(predicted="7 " + answers["predicted"].astype(str))
    assert score_frames(wrong_first, answers, comp) > 0
    for check in (
        lambda sub: check_against_sample(sub, sample, comp),
        lambda sub: score_frames(sub, answers, comp),
    ):
        with pytest.raises(InvalidSubmission, match="integer class ids"):
            check(answers.assign(predicted="x" + answers["predicted"].astype(str)))
