"""Both grading variants through `snakemake` on real Kaggle data (../shared/kaggle-mirror) with
MLE-bench's official thresholds: a scripted agent on spooky-author-identification writes a good
submission with the id column second, which MLE-bench finds invalid (rule `id-first-column`)
and the corrected variant scores. Grades and report rows carry both; switching the headline
regrades without rerunning the agent. Skipped, with a message, where the mirror is absent."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mlepipe.grading.medals import rank
from mlepipe.grading.report import grade_submission
from pipeline import REPO, Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

SHARED = REPO.parent / "shared"
if not (SHARED / "kaggle-mirror" / "spooky-author-identification.zip").is_file():
    pytest.skip(
        f"no spooky-author-identification in {SHARED / 'kaggle-mirror'} (optional)",
        allow_module_level=True,
    )

CID = "spooky-author-identification"
THRESHOLDS = SHARED / "mlebench-reference" / "thresholds.csv"
KEY = ("id-moved", "cpu-small", CID, 0)


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    agents = {
        "id-moved": {
            "kind": "command",
            "command": "python /home/agent/spooky_id_moved.py",
            "code_dir": str(REPO / "tests" / "agents_scripted"),
        }
    }
    config = {
        "competitions": [CID], "agents": ["id-moved"], "hardware": ["cpu-small"], "seeds": [0],
        "compare": [], "data_dir": str(root / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(THRESHOLDS),
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 3, "time_limit": "5m"}}
    workflow = Workflow(root, config, agents=agents, hardware=hardware, own_code=True)
    workflow.snakemake(timeout=1200)
    return workflow


def official():
    from mlepipe.grading.leaderboards import LeaderboardSource
    from mlepipe.registry import Registry

    comp = Registry().get(CID)
    return comp, LeaderboardSource.parse(str(THRESHOLDS)).thresholds(comp)


def test_grade_and_reports_carry_both_variants_then_the_headline_switches(wf):
    comp, t = official()
    grade = wf.grades()[KEY]
    assert grade["run_status"] == "ok" and grade["grading_rules"] == ["id-first-column"]
    mle, ours = grade["variants"]["mlebench"], grade["variants"]["corrected"]
    # MLE-bench's verdict (checked with its own grader on this kind of file: invalid).
    assert mle["score"] is None and not mle["valid_submission"] and not mle["above_median"]
    assert "first column" in mle["invalid_reason"]
    # Ours: the same file with the columns in the answers' order, graded on its own.
    submission = wf.results / "runs" / "id-moved" / "cpu-small" / CID / "0" / "submission.csv"
    frame = pd.read_csv(submission)
    assert list(frame.columns) == ["EAP", "id", "HPL", "MWS"]
    ordered = wf.root / "ordered.csv"
    frame[["id", "EAP", "HPL", "MWS"]].to_csv(ordered, index=False)
    from mlepipe.grading.leaderboards import LeaderboardSource

    alone = grade_submission(ordered, comp, wf.root / "data", LeaderboardSource.parse("none"))
    assert alone.variants["mlebench"]["score"] == alone.variants["corrected"]["score"]
    assert ours["valid_submission"] and ours["score"] == alone.score
    # A real model: better than the sample's constant (log loss 1.09) and than the median.
    assert 0.2 < ours["score"] < t.median < 1.0
    medals = rank(ours["score"], t)
    assert ours["above_median"] and medals.above_median
    assert ours["any_medal"] == medals.any_medal
    assert (ours["gold_medal"], ours["silver_medal"], ours["bronze_medal"]) == (
        medals.gold_medal, medals.silver_medal, medals.bronze_medal,
    )  # fmt: skip
    # The headline (default mlebench) is what MLE-bench's fields say.
    assert grade["grading_variant"] == "mlebench"
    assert grade["score"] is None and grade["valid_submission"] is False

    reports = wf.results / "reports"
    summary = pd.read_csv(reports / "summary.csv")
    rows = summary[summary.split == "all"]
    assert list(rows.grading_variant) == ["mlebench", "corrected"]
    assert list(rows.valid_pct) == [0.0, 100.0]
    assert list(rows.above_median_pct) == [0.0, 100.0]
    table = pd.read_csv(reports / "per_competition.csv").iloc[0]
    assert table.grading_variant == "mlebench" and pd.isna(table.score)
    assert pd.isna(table.mlebench_score) and not table.mlebench_valid_submission
    assert table.corrected_score == ours["score"] and table.corrected_valid_submission
    name = next((m for m in ("gold", "silver", "bronze") if getattr(medals, f"{m}_medal")), "none")
    assert table.corrected_medal == name
    # MLE-bench's leaderboard export follows the mlebench variant.
    boards = list((reports / "leaderboard" / "runs").glob("*/*_grading_report.json"))
    assert boards and all('"total_valid_submissions": 0' in p.read_text() for p in boards)

    # The corrected variant as the headline: grades again, the agent does not run again.
    proc = wf.snakemake("--config", "grading_variant=corrected")
    planned = jobs_planned(proc)
    assert planned.get("grade_run") == 1 and "run_agent" not in planned, planned
    grade = wf.grades()[KEY]
    assert grade["grading_variant"] == "corrected" and grade["score"] == ours["score"]
    assert grade["variants"]["mlebench"] == mle
    rows = pd.read_csv(reports / "summary.csv").query("split == 'all'")
    assert list(rows.grading_variant) == ["corrected", "mlebench"]
    assert "headline grading variant: corrected" in proc.stdout + proc.stderr
