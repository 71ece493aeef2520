"""The built-in AIDE agent (aideml 0.2.2) through `snakemake` on real Kaggle data
(../shared/kaggle-mirror, spaceship-titanic) with MLE-bench's official thresholds. No real model
can run here: the model stand-in (tests/model_standin.py) plays both of AIDE's models with a
fixed script, and everything else is real: aideml's own loop in its own Python environment
(built from PyPI), inside the bubblewrap sandbox, its code executed by aideml's interpreter, its
requests through the run's model gateway, the submission graded.

The script: the first draft fails on purpose; the review of its traceback calls it buggy; the
debugging step writes a rule-based submission (transported = in cryo-sleep), which the review
calls valid. Two agents share the environment: `aide` with an OpenAI model name (aideml uses the
Responses API for those) and `aide-local` with a local server's model name (chat completions
with tool calls, as against vLLM or llama.cpp).

Building the environment takes about a minute of pip from PyPI; it is kept for the session, or
across sessions in $MLEPIPE_TEST_ENVS_DIR. Skipped, with a message, where the mirror, bubblewrap
or PyPI is out of reach.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlepipe.agents.config import Agent
from mlepipe.agents.envs import env_digest
from model_standin import StandIn, offered_tool
from pipeline import REPO, Workflow

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)
SHARED = REPO.parent / "shared"
if not (SHARED / "kaggle-mirror" / "spaceship-titanic.zip").is_file():
    pytest.skip(
        f"no Kaggle mirror at {SHARED / 'kaggle-mirror'} (optional)", allow_module_level=True
    )

COMPETITION = "spaceship-titanic"
P, C = 321, 45  # tokens the stand-in reports for every answer
LOCAL_MODEL = "qwen2.5-coder-32b-instruct"

FAILING_DRAFT = """\
The first draft loads the data and stops.

```python
import pandas as pd

train = pd.read_csv("./input/train.csv")
print("training rows:", len(train))
raise RuntimeError("scripted draft fails on purpose")
```
"""
FIXED_CODE = """\
Predict that a passenger was transported exactly when in cryo-sleep.

```python
import pandas as pd

print("pandas", pd.__version__)
train = pd.read_csv("./input/train.csv")
rule = train["CryoSleep"].fillna(False).astype(bool)
print("Validation accuracy:", (rule == train["Transported"]).mean())
test = pd.read_csv("./input/test.csv")
predicted = test["CryoSleep"].fillna(False).astype(bool)
pd.DataFrame({"PassengerId": test["PassengerId"], "Transported": predicted}).to_csv(
    "./working/submission.csv", index=False
)
```
"""


def aide_script(body: dict, prompt: str) -> str | dict:
    """The stand-in's answers to aideml, decided by what each request holds (two runs ask at
    once): code for a draft, fixed code for a debugging step, a review call for a review."""
    if offered_tool(body) == "submit_review":
        if "Traceback" in prompt:
            return {"is_bug": True, "summary": "the script raised", "metric": None,
                    "lower_is_better": False}  # fmt: skip
        return {"is_bug": False, "summary": "cryo-sleep rule", "metric": 0.72,
                "lower_is_better": False}  # fmt: skip
    if "Previous (buggy) implementation" in prompt:
        return FIXED_CODE
    return FAILING_DRAFT


def aide_agent(upstream: str, model: str) -> dict:
    """config/agents.yaml's `aide`, for two steps, with the stand-in as its upstream."""
    spec = yaml.safe_load((REPO / "config" / "agents.yaml").read_text())["aide"]
    spec["code_dir"] = str(REPO / "agents" / "aide")
    spec["requirements"] = str(REPO / "agents" / "aide" / "requirements.txt")
    spec["settings"].update({
        "agent.code.model": model, "agent.feedback.model": model, "agent.steps": 2,
        "agent.search.num_drafts": 1, "exec.timeout": 120,
    })  # fmt: skip
    spec["gateway"] = {"upstream": upstream, "models": [model]}
    return spec


@pytest.fixture(scope="session")
def envs_dir(tmp_path_factory):
    """Where the AIDE environment is built: once per session, or kept across sessions."""
    kept = os.environ.get("MLEPIPE_TEST_ENVS_DIR")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("envs")
    if not any(folder.glob("*/.complete")):  # to be built, from PyPI
        probe = tmp_path_factory.mktemp("pypi")
        download = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(probe)]
        if subprocess.run([*download, "aideml==0.2.2"], capture_output=True).returncode:
            pytest.skip("PyPI is not reachable: the AIDE environment cannot be built")
    return folder


def expected_accuracy(data_dir) -> float:
    """The score of the scripted rule, worked out here from the private answers."""
    prepared = data_dir / COMPETITION / "prepared"
    test = pd.read_csv(prepared / "public" / "test.csv")
    answers = pd.read_csv(prepared / "private" / "test.csv")
    rule = test.set_index("PassengerId")["CryoSleep"].fillna(False).astype(bool)
    truth = answers.set_index("PassengerId")["Transported"].astype(bool)
    return float((rule.loc[truth.index] == truth).mean())


def test_aide_scripted_stand_in_model_through_the_pipeline(tmp_path, envs_dir):
    with StandIn(prompt_tokens=P, completion_tokens=C, reply=aide_script) as standin:
        agents = {
            "aide": aide_agent(standin.url, "gpt-4o-2024-08-06"),
            "aide-local": aide_agent(standin.url, LOCAL_MODEL),
        }
        config = {
            "competitions": [COMPETITION], "agents": list(agents), "hardware": ["cpu-small"],
            "seeds": [0], "data_dir": str(tmp_path / "data"), "envs_dir": str(envs_dir),
            "mirror": str(SHARED / "kaggle-mirror"),
            "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        }  # fmt: skip
        hardware = {"cpu-small": {"cpus": 2, "memory_gb": 4, "time_limit": "10m"}}
        wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=hardware, own_code=True)
        started = time.monotonic()
        proc = wf.snakemake(timeout=1800)
        print(f"AIDE pipeline: {time.monotonic() - started:.0f} s")
        received = list(standin.requests)

    # One environment for both agents (built by this run unless kept from an earlier one).
    assert (proc.stdout + proc.stderr).count("rule agent_env:") <= 1
    env = envs_dir.resolve() / env_digest(Agent("aide", agents["aide"], REPO / "config"))
    assert env_digest(Agent("aide-local", agents["aide-local"], REPO / "config")) == env.name
    installed = json.loads((env / ".complete").read_text())["installed"]
    assert "aideml==0.2.2" in installed and "pandas==2.1.4" in installed

    # Both kinds of OpenAI request aideml makes, each answered by the script.
    paths: dict[str, set[str]] = {}
    for request in received:
        paths.setdefault(request["body"]["model"], set()).add(request["path"])
    assert paths == {"gpt-4o-2024-08-06": {"/v1/responses"},
                     LOCAL_MODEL: {"/v1/chat/completions"}}  # fmt: skip
    reviews = [r for r in received if offered_tool(r["body"]) == "submit_review"]
    assert len(reviews) == 4 and len(received) == 8
    # The debugging step was shown the traceback of the draft, as the sandbox ran it.
    debug_prompts = [r for r in received if "Previous (buggy) implementation" in str(r["body"])]
    assert len(debug_prompts) == 2
    assert all("scripted draft fails on purpose" in str(r["body"]) for r in debug_prompts)

    score = expected_accuracy(tmp_path / "data")
    thresholds = pd.read_csv(SHARED / "mlebench-reference" / "thresholds.csv")
    t = thresholds.set_index("competition_id").loc[COMPETITION]
    runs, grades = wf.runs(), wf.grades()
    assert len(runs) == len(grades) == 2
    for key, run in runs.items():
        agent = key[0]
        assert run["status"] == "ok", run
        assert run["python_env"] == str(env)
        usage = run["usage"]
        assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"]) == (
            4,
            4 * P,
            4 * C,
        )
        g = grades[key]
        assert g["valid_submission"] and g["score"] == pytest.approx(score, abs=1e-5)
        assert g["gold_threshold"] == pytest.approx(t["gold_threshold"])
        assert g["any_medal"] == bool(score >= t["bronze_threshold"])
        assert g["above_median"] == bool(score > t["median_threshold"])
        assert (g["prompt_tokens"], g["completion_tokens"]) == (4 * P, 4 * C)
        # config/prices.yaml prices MLE-bench's model; the local one has no price.
        cost = round(4 * (P * 2.50 + C * 10.00) / 1e6, 6) if agent == "aide" else None
        assert usage["cost_usd"] == cost and g["cost_usd"] == cost

        run_dir = wf.results / "runs" / agent / "cpu-small" / COMPETITION / "0"
        journal = json.loads((run_dir / "logs" / "aide" / "journal.json").read_text())
        nodes = journal["nodes"]
        assert len(nodes) == 2
        assert nodes[0]["is_buggy"] and not nodes[1]["is_buggy"]
        assert nodes[1]["metric"]["value"] == pytest.approx(0.72)
        # The code ran with the agent's pins, not the pipeline's pandas.
        assert "pandas 2.1.4" in "".join(nodes[1]["_term_out"])
        best = (run_dir / "code" / "best_solution.py").read_text()
        assert "CryoSleep" in best
        assert best == (run_dir / "logs" / "aide" / "best_solution.py").read_text()
        stdout = (run_dir / "logs" / "agent.stdout").read_text()
        assert re.search(r"step 2/2: debug, metric 0\.72", stdout), stdout
