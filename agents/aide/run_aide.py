"""AIDE (PyPI `aideml` 0.2.2, MLE-bench's reference agent) on one competition, in the run's
sandbox, with its models reached through the run's model gateway.

Runs aideml's own search (its Agent, Interpreter and Journal) one step at a time. $AGENT_SETTINGS
holds aideml configuration keys in omegaconf's dotted form, as MLE-bench passes them on aideml's
command line (`agent.code.model`, `agent.feedback.model`, `agent.steps`, `exec.timeout`,
`agent.search.max_debug_depth`, `agent.search.debug_prob`, `copy_data`, ...). Two keys are
handled here: `agent.time_limit` (aideml 0.2.2 has none), by default $TIME_LIMIT_SECONDS: no
step starts after it and each step's execution time-out is cut to the time left; and
`generate_report`, by default false (the report asks one more model).

Where things go:
  $LOGS_DIR/aide/                 aideml's log folder: journal.json, config.yaml, tree_plot.html,
                                  best_solution.py (saved after every step); task.md, its prompt
  $CODE_DIR/aide/                 aideml's workspace: input/ (links to the data), working/
  $CODE_DIR/best_solution.py      the best valid step's code
  $SUBMISSION_DIR/submission.csv  the submission that step wrote (./working/submission.csv)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

started = time.monotonic()
settings = json.loads(os.environ.get("AGENT_SETTINGS") or "{}")
time_limit = float(settings.pop("agent.time_limit", os.environ["TIME_LIMIT_SECONDS"]))
settings.setdefault("generate_report", False)
logs, code = Path(os.environ["LOGS_DIR"]), Path(os.environ["CODE_DIR"])
submission_dir, data = Path(os.environ["SUBMISSION_DIR"]), Path(os.environ["DATA_DIR"])

# aideml's OpenAI backend sends OpenAI model names (gpt-*, o1, ...) to api.openai.com whatever
# OPENAI_BASE_URL says; the sandbox reaches only the gateway.
import aide.backend.backend_openai as openai_backend  # noqa: E402

openai_backend.OPENAI_BASE_URL = os.environ["OPENAI_BASE_URL"]

from aide.agent import Agent  # noqa: E402
from aide.interpreter import Interpreter  # noqa: E402
from aide.journal import Journal  # noqa: E402
from aide.utils import config as aide_config  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402


def fail(message: str) -> None:
    print(f"run_aide: {message}", file=sys.stderr)
    sys.exit(2)


def task_description(steps: int) -> str:
    """What aideml is told: the competition's description and the run's limits."""
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES") or ""
    notes = [
        f"Compute: {os.environ.get('CPUS', 'all')} CPUs, "
        f"{os.environ.get('MEMORY_MB', 'unlimited')} MB of memory, "
        + (f"{len(gpus.split(','))} GPU(s)." if gpus else "no GPU."),
        f"Time: {int(time_limit)} seconds in all, code runs included; at most {steps} steps.",
        "Save the test predictions to ./working/submission.csv in the format of the sample "
        "submission; the submission of the best valid step is the one graded.",
        "There is no internet access.",
    ]
    description = (data / "description.md").read_text()
    return "# Notes\n\n" + "".join(f"- {n}\n" for n in notes) + "\n# Competition\n\n" + description


def load_config():
    """aideml's packaged defaults, then the settings, then the run's folders."""
    cfg = OmegaConf.load(Path(aide_config.__file__).with_name("config.yaml"))
    for key, value in settings.items():
        OmegaConf.update(cfg, key, value, merge=True)
    (logs / "aide").mkdir(parents=True, exist_ok=True)
    desc_file = logs / "aide" / "task.md"
    desc_file.write_text(task_description(int(cfg.agent.steps)))
    cfg.data_dir, cfg.desc_file = str(data), str(desc_file)
    cfg.log_dir, cfg.workspace_dir = str(logs), str(code)
    cfg = aide_config.prep_cfg(cfg)
    # prep_cfg numbers the experiment's folders; one run has one experiment.
    cfg.exp_name, cfg.log_dir, cfg.workspace_dir = "aide", logs / "aide", code / "aide"
    return cfg


def keep_best(node, working: Path) -> None:
    """The new best step's submission and code become the run's."""
    (code / "best_solution.py").write_text(node.code)
    produced = working / "submission.csv"
    if not produced.is_file():
        print(f"step {node.step}: best so far, but it wrote no submission.csv")
        return
    partial = submission_dir / ".submission.csv.partial"
    shutil.copyfile(produced, partial)
    os.replace(partial, submission_dir / "submission.csv")


def main() -> None:
    cfg = load_config()
    models = set(filter(None, os.environ.get("GATEWAY_MODELS", "").split(",")))
    wanted = {cfg.agent.code.model, cfg.agent.feedback.model}
    wanted |= {cfg.report.model} if cfg.generate_report else set()
    if models and not wanted <= models:
        fail(f"the gateway allows {sorted(models)}, not {sorted(wanted - models)}: add them to "
             "the agent's gateway models")  # fmt: skip
    aide_config.prep_agent_workspace(cfg)
    journal = Journal()
    agent = Agent(task_desc=aide_config.load_task_desc(cfg), cfg=cfg, journal=journal)
    interpreter = Interpreter(cfg.workspace_dir, **OmegaConf.to_container(cfg.exec))
    working = Path(cfg.workspace_dir) / "working"
    deadline = started + time_limit
    best_id = None
    while len(journal) < cfg.agent.steps and (left := deadline - time.monotonic()) > 1:
        interpreter.timeout = int(min(cfg.exec.timeout, left))
        (working / "submission.csv").unlink(missing_ok=True)  # each step writes its own
        agent.step(exec_callback=interpreter.run)
        aide_config.save_run(cfg, journal)
        node, best = journal.nodes[-1], journal.get_best_node()
        state = "buggy" if node.is_buggy else f"metric {node.metric.value}"
        print(f"step {len(journal)}/{cfg.agent.steps}: {node.stage_name}, {state}", flush=True)
        if best is not None and best is node and best.id != best_id:
            keep_best(best, working)
            best_id = best.id
    interpreter.cleanup_session()
    if cfg.generate_report:
        from aide.journal2report import journal2report

        report = journal2report(journal, agent.task_desc, cfg.report)
        (Path(cfg.log_dir) / "report.md").write_text(report)
    print("best step: " + (f"{best_id}" if best_id else "none valid"))


if __name__ == "__main__":
    main()
