"""Scoring a submission in a bounded sandbox of its own (`mlepipe grade-run --memory-mb N`).

The grader reads a file the agent wrote, and such a file can be made to take memory without end:
a wide CSV takes about 11 times its size once pandas has read it. So the pipeline scores each run
in a child process run by the experiment's runner (bubblewrap: no network, the data, the run and
the package read-only, one empty folder writable) within a cgroup memory limit of N MB (the
grading rule's mem_mb) and a time limit. The child is `mlepipe score-submission`; medals are
awarded here, from the score, so that the leaderboards never enter the sandbox.

When the child runs out of memory or time, one of two things happens:
- the grading rule will try again with more memory (N is below its last size): the command
  fails with exit status 3 and one line, and Snakemake retries;
- N is the last size: the submission is recorded as invalid, saying why. A submission that
  cannot be scored within the largest grading allowance gets no score, like any other the
  grader cannot handle, and the experiment goes on.

Not part of the grading code's version: where a score is computed does not change it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mlepipe.grading import variants
from mlepipe.harness.runner import Limits, Mount
from mlepipe.harness.runners import get_runner
from mlepipe.registry import PACKAGE_DIR, Competition, default_competitions_dir

EXIT_RETRY = 3
GRADER_PIDS = 256


class GradingOutOfResources(RuntimeError):
    """The child ran out of memory or time, and a larger attempt will follow."""


class SandboxedScorer:
    """A `report.Scorer` that scores in a child process under the given limits."""

    def __init__(
        self,
        *,
        memory_mb: int,
        last_memory_mb: int | None,
        seconds: float,
        sandbox: str,
        run_dir: Path,
    ) -> None:
        self.memory_mb, self.seconds, self.sandbox = memory_mb, seconds, sandbox
        self.last_memory_mb = last_memory_mb or memory_mb
        self.run_dir = Path(run_dir).resolve()

    def __call__(
        self, submission: Path, competition: Competition, data_dir: Path
    ) -> dict[str, tuple[float | None, str | None]]:
        return self.score_many([submission], competition, data_dir)[0]

    def score_many(
        self, submissions: Sequence[Path], competition: Competition, data_dir: Path
    ) -> list[dict[str, tuple[float | None, str | None]]]:
        """Each submission's verdicts {variant: (score, invalid reason)}, all in one child: the
        answers are read once. Out of memory or time, every one of them gets the same outcome."""
        data_dir = Path(data_dir).resolve()
        runner = get_runner(self.sandbox)
        with tempfile.TemporaryDirectory(prefix=".grading-", dir=self.run_dir.parent) as tmp:
            out = Path(tmp)
            # Every path is shown at its own place, so the child's arguments need no mapping.
            shown = [
                competition.root(data_dir),
                self.run_dir,
                PACKAGE_DIR,
                default_competitions_dir(),
            ]
            mounts = [Mount(p, str(p)) for p in dict.fromkeys(p.resolve() for p in shown)]
            mounts.append(Mount(out, str(out), writable=True))
            argv = [
                "python", "-m", "mlepipe", "score-submission",
                *(str(Path(s).resolve()) for s in submissions),
                competition.id, "--data-dir", str(data_dir), "--output", str(out / "score.json"),
            ]  # fmt: skip
            env = {
                "PYTHONPATH": str(PACKAGE_DIR.parent),
                "MLEPIPE_COMPETITIONS_DIR": str(default_competitions_dir()),
            }
            result = runner.run(
                argv, mounts=mounts, env=env, workdir=str(out),
                limits=Limits(wall_seconds=self.seconds, memory_mb=self.memory_mb,
                              pids=GRADER_PIDS),
                stdout=out / "grader.log", stderr=out / "grader.log",
            )  # fmt: skip
            if result.oom_killed or result.timed_out:
                return [self._out_of_resources(result.oom_killed)] * len(submissions)
            if result.exit_code != 0:
                # A setup error of the grader (changed answers, missing files): not the agent's.
                log = (out / "grader.log").read_text(errors="replace").strip()
                last = log.splitlines()[-1] if log else f"exit {result.exit_code}"
                raise RuntimeError(f"scoring {competition.id} failed: {last}")
            answer = json.loads((out / "score.json").read_text())
        return [
            {name: (v["score"], v["invalid_reason"]) for name, v in verdicts.items()}
            for verdicts in answer["results"]
        ]

    def _out_of_resources(self, oom: bool) -> dict[str, tuple[None, str]]:
        what = (
            f"more than {self.memory_mb} MB of memory" if oom
            else f"more than {self.seconds:.0f} s"
        )  # fmt: skip
        if self.memory_mb < self.last_memory_mb:
            raise GradingOutOfResources(
                f"grading needed {what}; the grading rule retries with more memory"
            )
        reason = f"grading this submission took {what}, the most grading may use"
        return dict.fromkeys(variants.VARIANTS, (None, reason))


def score_to_file(
    submissions: Sequence[Path], competition: Competition, data_dir: Path, output: Path
) -> None:
    """The child's side: score each submission in both grading variants, and write
    {results: [{variant: {score, invalid_reason}}]} as JSON, in the order given."""
    from mlepipe.grading.report import score_submissions

    results = score_submissions(submissions, competition, data_dir)
    tmp = output.with_name(output.name + ".part")
    tmp.write_text(
        json.dumps(
            {
                "results": [
                    {n: {"score": s, "invalid_reason": r} for n, (s, r) in verdicts.items()}
                    for verdicts in results
                ]
            }
        )
    )
    tmp.replace(output)
    for path, verdicts in zip(submissions, results, strict=True):
        for name, (score, reason) in verdicts.items():
            said = score if reason is None else reason
            print(f"scored {Path(path).name} ({name}): {said}", file=sys.stderr)
