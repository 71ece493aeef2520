"""Staleness by concern, through the real workflow: each edit replans exactly the jobs whose
result it can change. Preparation (definition blocks, descriptions, preparer code) re-prepares
and reruns that competition's runs; grading (grading block, grader code) regrades only; an agent's
code, shared contract included, reruns that agent's runs only; harness and acquisition code
replan nothing. The workflow has its own copy of the package and definitions, which the tests
edit (dry runs only) and put back."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pipeline import Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

HARDWARE = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "2m"}}
COMPETITIONS = ["practice-wine", "practice-diabetes"]
REPORTS = {
    "competition_table", "report_tables", "report_charts", "report_anytime", "export_leaderboard",
    "all",
}  # fmt: skip


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("staleness")
    config = {
        "competitions": COMPETITIONS, "agents": ["dummy", "baseline"], "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(root / "data"),
    }  # fmt: skip
    workflow = Workflow(root, config, hardware=HARDWARE, own_code=True)
    workflow.snakemake()
    assert len(workflow.grades()) == 4
    return workflow


def planned(wf: Workflow) -> dict[str, int]:
    return jobs_planned(wf.snakemake("-n"))


def test_nothing_is_stale_after_a_run(wf):
    assert planned(wf) == {}


def yaml_edit(wf: Workflow, competition: str, change) -> str:
    rel = f"competitions/{competition}/competition.yaml"
    spec = yaml.safe_load((wf.root / rel).read_text())
    change(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def test_grading_block_regrades_that_competition_only(wf):
    def change(spec):
        spec["grading"]["extra_columns"] = "ignore"

    with wf.edited(
        "competitions/practice-wine/competition.yaml", yaml_edit(wf, "practice-wine", change)
    ):
        jobs = planned(wf)
    assert jobs == {"grade_run": 2, "competition_table": 1, "report_tables": 1,
                    "report_charts": 1, "report_anytime": 1, "export_leaderboard": 1,
                    "all": 1}  # fmt: skip


def test_schema_defaults_count_as_grading(wf):
    # Spelling out a default changes nothing; changing the schema's default regrades everything.
    def spell_out(spec):
        spec["grading"]["sum_tolerance"] = 1.0e-6

    rel = "competitions/practice-wine/competition.yaml"
    with wf.edited(rel, yaml_edit(wf, "practice-wine", spell_out)):
        assert planned(wf) == {}
    schema = wf.root / "mlepipe/schemas/competition.yaml"
    text = schema.read_text()
    assert "sum_tolerance: {type: number, default: 1.0e-6}" in text
    new = text.replace("default: 1.0e-6}", "default: 1.0e-5}")
    with wf.edited("mlepipe/schemas/competition.yaml", new):
        jobs = planned(wf)
    assert set(jobs) == {"grade_run"} | REPORTS and jobs["grade_run"] == 4


def test_description_reprepares_and_reruns_that_competition(wf):
    with wf.edited("competitions/practice-diabetes/description.md"):
        jobs = planned(wf)
    assert jobs == {"prepare_competition": 1, "run_agent": 2, "grade_run": 2} | dict.fromkeys(
        REPORTS, 1
    )


def test_preparation_block_reprepares_that_competition(wf):
    def change(spec):
        spec["preparation"]["random_state"] = 1

    with wf.edited(
        "competitions/practice-wine/competition.yaml", yaml_edit(wf, "practice-wine", change)
    ):
        jobs = planned(wf)
    assert jobs["prepare_competition"] == 1 and jobs["run_agent"] == 2


def test_preparer_code_reprepares_the_competitions_that_use_it(wf):
    with wf.edited("mlepipe/preparers/splits.py"):  # split_table: both practice tables
        jobs = planned(wf)
    assert jobs["prepare_competition"] == 2 and jobs["run_agent"] == 4 and jobs["grade_run"] == 4


def test_metric_code_regrades_without_rerunning(wf):
    with wf.edited("mlepipe/metrics/classification.py"):
        jobs = planned(wf)
    assert set(jobs) == {"grade_run"} | REPORTS and jobs["grade_run"] == 4


def test_shared_agent_code_versions_both_builtin_agents(wf):
    # Both builtin agents import the agent contract.
    with wf.edited("mlepipe/agents/contract.py"):
        jobs = planned(wf)
    assert jobs["run_agent"] == 4 and "prepare_competition" not in jobs


@pytest.mark.parametrize("module", ["mlepipe/agents/dummy.py", "mlepipe/agents/baseline/models.py"])
def test_one_agents_own_code_reruns_only_its_runs(wf, module):
    with wf.edited(module):
        jobs = planned(wf)
    assert jobs["run_agent"] == 2 and jobs["grade_run"] == 2


@pytest.mark.parametrize(
    "module", ["mlepipe/harness/run.py", "mlepipe/sources.py", "mlepipe/cli.py"]
)
def test_harness_and_acquisition_code_replan_nothing(wf, module):
    with wf.edited(module):
        assert planned(wf) == {}
