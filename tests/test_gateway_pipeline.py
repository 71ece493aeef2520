"""An LLM agent through `snakemake` on real Kaggle data (../shared/kaggle-mirror): the template
agent agents/example-llm asks the model stand-in through its gateway, submits, and the run
record, the grade and the report tables carry its tokens and cost. Skipped, with a message,
where the mirror or bubblewrap is absent."""

from __future__ import annotations

import json
import secrets
import shutil

import pandas as pd
import pytest
import yaml

from model_standin import CONTENT, StandIn
from pipeline import REPO, Workflow

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)
SHARED = REPO.parent / "shared"
if not (SHARED / "kaggle-mirror" / "spaceship-titanic.zip").is_file():
    pytest.skip(
        f"no Kaggle mirror at {SHARED / 'kaggle-mirror'} (optional)", allow_module_level=True
    )

MODEL = "gpt-4o-mini"  # the stand-in answers under this name; its price is config/prices.yaml's
P, C = 1234, 56
SEEDS = [0, 1]


def test_llm_agent_usage_reaches_run_grade_and_reports(tmp_path):
    prices = yaml.safe_load((REPO / "config" / "prices.yaml").read_text())[MODEL]
    key = "sk-test-" + secrets.token_hex(16)
    with StandIn(prompt_tokens=P, completion_tokens=C) as standin:
        agents = {
            "example-llm": {
                "kind": "command", "command": "python /home/agent/main.py",
                "code_dir": str(REPO / "agents" / "example-llm"),
                "gateway": {"upstream": standin.url, "key_env": "MLEPIPE_TEST_MODEL_KEY",
                            "models": [MODEL], "budget": {"requests": 5}},
            }
        }  # fmt: skip
        config = {
            "competitions": ["spaceship-titanic"], "agents": ["example-llm"],
            "hardware": ["cpu-small"], "seeds": SEEDS, "data_dir": str(tmp_path / "data"),
            "mirror": str(SHARED / "kaggle-mirror"),
            "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        }  # fmt: skip
        hardware = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "5m"}}
        wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=hardware, own_code=True)
        wf.snakemake(timeout=900, env={"MLEPIPE_TEST_MODEL_KEY": key})
        assert len(standin.requests) == len(SEEDS)
        assert all(r["headers"]["Authorization"] == f"Bearer {key}" for r in standin.requests)
        assert "Spaceship Titanic" in standin.requests[0]["body"]["messages"][1]["content"]

    cost = round((P * prices["input"] + C * prices["output"]) / 1e6, 6)
    runs, grades = wf.runs(), wf.grades()
    assert len(runs) == len(grades) == len(SEEDS)
    for key_, run in runs.items():
        assert run["status"] == "ok", run
        usage = run["usage"]
        assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"]) == (1, P, C)
        assert usage["cost_usd"] == cost and usage["budget_exhausted"] is False
        run_dir = wf.results / "runs" / "example-llm" / "cpu-small" / "spaceship-titanic"
        seed_dir = run_dir / str(run["seed"])
        assert (seed_dir / "logs" / "plan.md").read_text().strip() == CONTENT
        [entry] = [json.loads(x) for x in (seed_dir / "logs" / "gateway.jsonl").open()]
        assert entry["status"] == 200 and entry["prompt_tokens"] == P
        g = grades[key_]
        assert g["valid_submission"] and g["run_status"] == "ok"
        assert (g["model_requests"], g["prompt_tokens"], g["completion_tokens"]) == (1, P, C)
        assert g["cost_usd"] == cost

    reports = wf.results / "reports"
    per_run = pd.read_csv(reports / "per_competition.csv")
    assert per_run["cost_usd"].tolist() == [cost] * len(SEEDS)
    assert per_run["prompt_tokens"].tolist() == [P] * len(SEEDS)
    summary = pd.read_csv(reports / "summary.csv")
    row = summary[summary["split"] == "all"].iloc[0]
    assert row["cost_usd"] == pytest.approx(cost * len(SEEDS))
    assert row["cost_per_run_usd"] == pytest.approx(cost)
    assert row["prompt_tokens"] == P * len(SEEDS) and row["completion_tokens"] == C * len(SEEDS)
    assert "any_medal_pct" in row  # the medal rate stands beside the cost
    html = (reports / "summary.html").read_text()
    assert "Cost per run (USD)" in html and f"{cost:.6f}" in html
    competition = pd.read_csv(wf.results / "competitions" / "spaceship-titanic.csv")
    assert competition["cost_usd"].tolist() == [cost] * len(SEEDS)
