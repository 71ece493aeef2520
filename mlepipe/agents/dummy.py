"""The trivial agent: submits the sample submission unchanged.

It honours the same contract as every agent (see `mlepipe.agents.contract`) and gives the score
floor that any real agent should beat. Run as `python -m mlepipe.agents.dummy`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from mlepipe.agents.contract import (
    AgentEnv,
    copy_submission,
    find_sample_submission,
    no_sample_submission,
    run_validator,
    save_record,
    setup_logging,
)

log = logging.getLogger("mlepipe.agents.dummy")


def main() -> int:
    env = AgentEnv.from_environ()
    setup_logging(env.logs_dir, "dummy")
    sample = find_sample_submission(env.data_dir)
    summary: dict[str, Any] = {
        "agent": "dummy",
        "competition": env.competition_id,
        "seed": env.seed,
    }
    if sample is None:
        no_sample_submission(env, summary)
        code = 1
    else:
        target = env.submission_path
        copy_submission(sample, target)
        ok, message = run_validator(env.validate, target)
        log.info(
            "copied %s to %s; validator: %s",
            sample.name,
            target,
            "passed" if ok else f"refused: {message}",
        )
        summary["result"] = f"copied {sample.name}"
        code = 0
    save_record(env.code_dir, summary)
    return code


if __name__ == "__main__":
    sys.exit(main())
