"""The baseline's run: the sample submission as a fallback first, then a model's submission
within the time budget, checked by the validator; a record of the run in the code folder."""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from mlepipe.agents.baseline import CannotModel, OutOfTime
from mlepipe.agents.baseline.solve import solve
from mlepipe.agents.baseline.tables import read_sample
from mlepipe.agents.contract import (
    AgentEnv,
    Budget,
    copy_submission,
    find_sample_submission,
    no_sample_submission,
    process_age,
    run_validator,
    save_record,
    setup_logging,
    time_cap,
    write_submission,
)

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
CONTRACT_FILE = PACKAGE_DIR.parent / "contract.py"
TIME_SHARE = 0.8  # share of the time limit modelling may use; the rest is for writing


def check_shape(frame: pd.DataFrame, sample: pd.DataFrame) -> None:
    """The built submission has the sample's columns and rows, and no empty cell."""
    if list(frame.columns) != list(sample.columns) or len(frame) != len(sample):
        raise CannotModel("the built submission does not have the sample submission's shape")
    empty = frame.isna().any()
    if empty.any():
        raise CannotModel(f"the built submission has empty cells in {list(empty[empty].index)}")


def save_code(env: AgentEnv, summary: dict[str, Any]) -> None:
    """The summary and the agent's code (this package and the contract) in the code folder."""
    save_record(env.code_dir, summary, [*sorted(PACKAGE_DIR.glob("*.py")), CONTRACT_FILE])


def main() -> int:
    env = AgentEnv.from_environ()
    setup_logging(env.logs_dir, "baseline")
    budget = Budget(env.time_limit, used=process_age(), share=TIME_SHARE)
    summary: dict[str, Any] = {
        "agent": "baseline",
        "competition": env.competition_id,
        "seed": env.seed,
        "cpus": env.cpus,
        "time_limit_seconds": env.time_limit,
    }
    sample_path = find_sample_submission(env.data_dir)
    if sample_path is None:
        no_sample_submission(env, summary)
        save_code(env, summary)
        return 1
    target = env.submission_path
    copy_submission(sample_path, target)  # a valid answer exists from the start
    log.info("copied %s to %s as a fallback", sample_path.name, target)

    # Idle OpenMP threads sleep instead of spinning: spinning threads slow everything down
    # badly when the CPU quota is smaller than the machine (set before scikit-learn loads).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from threadpoolctl import threadpool_limits

    result = "sample submission (fallback)"
    try:
        out_of_time = OutOfTime(f"modelling passed its budget of {max(budget.left(), 0):.0f} s")
        with threadpool_limits(limits=env.cpus), time_cap(budget.left(), out_of_time):
            sample = read_sample(sample_path)
            frame = solve(env, sample, budget, summary)
        check_shape(frame, sample)
        write_submission(target, partial(frame.to_csv, index=False))
        ok, message = run_validator(env.validate, target)
        if ok:
            result = "model"
        else:
            log.error("the validator refused the model's submission: %s", message)
            copy_submission(sample_path, target)
            summary["fallback_reason"] = f"validator refused the model's submission: {message}"
    except CannotModel as exc:
        log.warning("cannot model this task: %s; the sample submission stands", exc)
        summary["fallback_reason"] = str(exc)
    except OutOfTime as exc:
        log.warning("%s; the sample submission stands", exc)
        summary["fallback_reason"] = str(exc)
    except MemoryError:
        log.warning("ran out of memory; the sample submission stands")
        summary["fallback_reason"] = "out of memory"
    except Exception as exc:  # noqa: BLE001 - any failure must still leave a valid submission
        log.exception("modelling failed; the sample submission stands")
        summary["fallback_reason"] = f"{type(exc).__name__}: {exc}"
    summary["result"] = result
    summary["seconds"] = round(budget.elapsed(), 2)
    log.info("submission: %s (%.1f s)", result, budget.elapsed())
    save_code(env, summary)
    return 0
