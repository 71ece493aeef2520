"""Agents in containers through `snakemake` on a real competition (../shared/kaggle-mirror,
spaceship-titanic, MLE-bench's thresholds): the pipeline builds an agent's image, runs and
grades it; editing that Dockerfile rebuilds the image and reruns that agent's runs only."""

from __future__ import annotations

import json

import pytest
from podman_engine import BASE_IMAGE

from pipeline import REPO, Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = REPO.parent / "shared"
COMPETITION = "spaceship-titanic"


@pytest.fixture(scope="module")
def wf(tmp_path_factory, podman_engine):
    if not (SHARED / "kaggle-mirror" / f"{COMPETITION}.zip").is_file():
        pytest.skip(f"no {COMPETITION} in the Kaggle mirror at {SHARED / 'kaggle-mirror'}")
    root = tmp_path_factory.mktemp("containers")
    (root / "images" / "dummy").mkdir(parents=True)
    (root / "images" / "dummy" / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nLABEL step=1\n")
    agents = {
        "boxed": {"kind": "builtin", "module": "dummy", "build": "../images/dummy"},
        "plain": {"kind": "builtin", "module": "dummy", "image": BASE_IMAGE},
    }
    config = {
        "competitions": [COMPETITION], "agents": list(agents), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(root / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        "sandbox": "container", "container_engine": podman_engine.url,
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "5m"}}
    workflow = Workflow(root, config, agents=agents, hardware=hardware, own_code=True)
    workflow.snakemake(timeout=900)
    return workflow


def test_built_image_runs_and_is_graded(wf, podman_engine):
    runs, grades = wf.runs(), wf.grades()
    image_id = (wf.results / "images" / "boxed.id").read_text().strip()
    boxed = runs[("boxed", "cpu-small", COMPETITION, 0)]
    assert boxed["status"] == "ok" and boxed["runner"] == "container", boxed["sandbox_notes"]
    assert boxed["runner_identity"]["image_id"] == image_id
    plain = runs[("plain", "cpu-small", COMPETITION, 0)]
    assert plain["runner_identity"]["image_digests"]  # a named image: its digest is recorded
    for key, grade in grades.items():
        assert grade["valid_submission"] and grade["run_status"] == "ok", key
        assert grade["sandboxed"] is True, key  # reports count container runs as sandboxed
    assert json.loads((wf.results / "runs" / "boxed" / "cpu-small" / COMPETITION / "0" /
                       "run.json").read_text())["limits_enforced"]["network"].startswith(
                           "container")  # fmt: skip
    assert podman_engine.containers() == []


def test_editing_the_dockerfile_reruns_that_agents_runs_only(wf):
    assert jobs_planned(wf.snakemake("-n")) == {}
    with wf.edited("images/dummy/Dockerfile", f"FROM {BASE_IMAGE}\n"
                   "LABEL step=2\n"):  # fmt: skip
        planned = jobs_planned(wf.snakemake("-n"))
    assert planned.get("build_image") == 1
    assert planned.get("run_agent") == 1  # boxed only; plain is untouched
