"""Grade records: reports with exactly MLE-bench's fields plus our own extras under distinct names,
for one submission, one finished run, or a batch."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlepipe.grading import variants
from mlepipe.grading.checks import InvalidSubmission, read_csv_submission
from mlepipe.grading.leaderboards import LeaderboardSource
from mlepipe.grading.medals import NO_MEDALS, Medals, Thresholds, rank
from mlepipe.grading.scoring import (
    load_answers,
    lower_is_better,
    round_score,
    score_frames,
    verify_answers,
)
from mlepipe.registry import Competition
from mlepipe.snapshot_index import SNAPSHOTS_DIR, read_index

# The fields of MLE-bench's CompetitionReport, in its order.
MLEBENCH_FIELDS = (
    "competition_id", "score", "gold_threshold", "silver_threshold", "bronze_threshold",
    "median_threshold", "any_medal", "gold_medal", "silver_medal", "bronze_medal", "above_median",
    "submission_exists", "valid_submission", "is_lower_better", "created_at", "submission_path",
)  # fmt: skip
# Our additions; none of these names is used by MLE-bench.
# `medals_known` tells a real "no medal" from "no thresholds to compare with", which MLE-bench's
# booleans alone cannot.
# `grading_variant` names the variant that MLE-bench's fields follow (the headline); `variants`
# holds each variant's verdict and medals; `grading_rules` the competition's rules, in which
# the variants can differ (mlepipe.grading.variants).
EXTRA_FIELDS = (
    "invalid_reason", "metric", "thresholds_source", "practice", "medals_known",
    "grading_variant", "variants", "grading_rules",
)  # fmt: skip


@dataclass
class CompetitionReport:
    competition_id: str
    score: float | None
    gold_threshold: float | None
    silver_threshold: float | None
    bronze_threshold: float | None
    median_threshold: float | None
    any_medal: bool
    gold_medal: bool
    silver_medal: bool
    bronze_medal: bool
    above_median: bool
    submission_exists: bool
    valid_submission: bool
    is_lower_better: bool
    created_at: datetime
    submission_path: str
    invalid_reason: str | None = None
    metric: str = ""
    thresholds_source: str | None = None
    practice: bool = False
    medals_known: bool = False
    grading_variant: str = variants.DEFAULT_VARIANT
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    grading_rules: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in MLEBENCH_FIELDS + EXTRA_FIELDS}
        out["created_at"] = self.created_at.isoformat()
        return out


def build_report(
    competition: Competition,
    submission_path: Path,
    submission_exists: bool,
    verdicts: Verdicts,
    thresholds: Thresholds | None,
    variant: str = variants.DEFAULT_VARIANT,
) -> CompetitionReport:
    """The report of variant `variant` (the headline), with every variant's verdict and medals
    under `variants`."""
    lib = thresholds.lower_is_better if thresholds else lower_is_better(competition)
    score, reason = verdicts[variant]
    medals = rank(score, thresholds) if thresholds else NO_MEDALS
    return CompetitionReport(
        competition_id=competition.id,
        score=score,
        gold_threshold=thresholds.gold if thresholds else None,
        silver_threshold=thresholds.silver if thresholds else None,
        bronze_threshold=thresholds.bronze if thresholds else None,
        median_threshold=thresholds.median if thresholds else None,
        any_medal=medals.any_medal,
        gold_medal=medals.gold_medal,
        silver_medal=medals.silver_medal,
        bronze_medal=medals.bronze_medal,
        above_median=medals.above_median,
        submission_exists=submission_exists,
        valid_submission=score is not None,
        is_lower_better=lib,
        created_at=datetime.now(),
        submission_path=str(submission_path),
        invalid_reason=reason,
        metric=competition.metric_name,
        thresholds_source=thresholds.source if thresholds else None,
        practice=competition.practice,
        medals_known=thresholds is not None,
        grading_variant=variant,
        variants={name: variant_fields(*verdicts[name], thresholds) for name in variants.VARIANTS},
        grading_rules=[d.rule for d in variants.deviations(competition)],
    )


def variant_fields(
    score: float | None, reason: str | None, thresholds: Thresholds | None
) -> dict[str, Any]:
    """One variant's verdict and medals, as a grade record's `variants` holds them."""
    medals = rank(score, thresholds) if thresholds else NO_MEDALS
    return {
        "score": score,
        "valid_submission": score is not None,
        "invalid_reason": reason,
        "any_medal": medals.any_medal,
        "gold_medal": medals.gold_medal,
        "silver_medal": medals.silver_medal,
        "bronze_medal": medals.bronze_medal,
        "above_median": medals.above_median,
    }


# A verdict: (score, None) for a valid submission, (None, reason) for an invalid one.
Verdict = tuple[float | None, str | None]
# The verdict of each grading variant, by name (variants.VARIANTS).
Verdicts = dict[str, Verdict]


def score_submission(submission_path: Path, competition: Competition, data_dir: Path) -> Verdicts:
    """The verdict of each grading variant on one submission file. A competition without grading
    rules is scored once and the verdict copied. The answers are verified first; a missing or
    changed answer file raises, as it is not the submission's fault."""
    return score_submissions([submission_path], competition, data_dir)[0]


def score_submissions(
    submission_paths: Sequence[Path], competition: Competition, data_dir: Path
) -> list[Verdicts]:
    """``score_submission`` of each path, in order, with the answers verified and read once."""
    answers_path = competition.answers_path(data_dir)
    if not answers_path.is_file():
        raise FileNotFoundError(
            f"answers for {competition.id} not found at {answers_path}; "
            f"run `mlepipe prepare {competition.id} --data-dir {data_dir}` first"
        )
    verify_answers(competition, data_dir)
    answers = load_answers(answers_path)
    return [_score_one(Path(path), answers, competition) for path in submission_paths]


def _score_one(path: Path, answers: Any, competition: Competition) -> Verdicts:
    """The one place where a read submission meets the answers, in each grading variant."""
    try:
        submission = read_csv_submission(path)
    except InvalidSubmission as exc:
        return dict.fromkeys(variants.VARIANTS, (None, str(exc)))
    names = variants.VARIANTS if variants.differs(competition) else (variants.CORRECTED,)
    verdicts: Verdicts = {}
    for name in names:
        with variants.variant(name):
            try:
                # Copies: a grader may change the frames it is given, and no scoring may see
                # answers that an earlier one changed.
                score = score_frames(submission.copy(), copy.deepcopy(answers), competition)
                verdicts[name] = (round_score(score), None)
            except InvalidSubmission as exc:
                verdicts[name] = (None, str(exc))
    return {name: verdicts.get(name, verdicts[variants.CORRECTED]) for name in variants.VARIANTS}


# How a submission is scored: in this process, or elsewhere (a bounded sandbox) by the caller's
# choice; same arguments and result as score_submission. A scorer with a `score_many` method
# (same arguments and result as score_submissions) scores several submissions in one go.
Scorer = Callable[[Path, Competition, Path], Verdicts]


def score_many(
    scorer: Scorer, paths: Sequence[Path], competition: Competition, data_dir: Path
) -> list[Verdicts]:
    """Each of ``paths`` scored by ``scorer``, at once where the scorer can (answers read once)."""
    if not paths:
        return []
    if scorer is score_submission:
        return score_submissions(paths, competition, data_dir)
    many = getattr(scorer, "score_many", None)
    if many is not None:
        return many(paths, competition, data_dir)
    return [scorer(Path(p), competition, data_dir) for p in paths]


def grade_submission(
    submission_path: Path,
    competition: Competition,
    data_dir: Path,
    leaderboards: LeaderboardSource,
    scorer: Scorer = score_submission,
    variant: str = variants.DEFAULT_VARIANT,
) -> CompetitionReport:
    """Grades one submission file against the private answers; never raises for bad submissions.
    The report's fields follow grading variant `variant`; `variants` holds both."""
    submission_path = Path(submission_path)
    exists = submission_path.is_file() and submission_path.suffix.lower() == ".csv"
    verdicts = scorer(submission_path, competition, data_dir)
    return build_report(
        competition, submission_path, exists, verdicts, leaderboards.thresholds(competition),
        variant,
    )  # fmt: skip


def record_in_variant(record: dict[str, Any], name: str) -> dict[str, Any]:
    """A grade record whose MLE-bench fields follow variant `name` (from its `variants`); a
    record made before there were variants is returned as it is."""
    held = (record.get("variants") or {}).get(name)
    if held is None:
        return dict(record)
    return {**record, **held, "grading_variant": name}


def batch_summary(reports: list[CompetitionReport]) -> dict[str, Any]:
    """MLE-bench's summary of a batch of graded submissions (`mlepipe grade`)."""

    def total(name: str) -> int:
        return int(sum(bool(getattr(r, name)) for r in reports))

    return {
        "total_runs": len(reports),
        "total_runs_with_submissions": total("submission_exists"),
        "total_valid_submissions": total("valid_submission"),
        "total_medals": total("gold_medal") + total("silver_medal") + total("bronze_medal"),
        "total_gold_medals": total("gold_medal"),
        "total_silver_medals": total("silver_medal"),
        "total_bronze_medals": total("bronze_medal"),
        "total_above_median": total("above_median"),
        "competition_reports": [r.to_dict() for r in reports],
    }


def write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def grade_run(
    run_dir: Path,
    competition: Competition,
    data_dir: Path,
    leaderboards: LeaderboardSource,
    scorer: Scorer = score_submission,
    grading_version: str | None = None,
    variant: str = variants.DEFAULT_VARIANT,
) -> dict[str, Any]:
    """The grade record of a finished run: MLE-bench's report fields plus the run's identity and
    status (`sandboxed`: every runner isolates the agent but `none`), and the `timeline` of its
    submission snapshots (`grade_timeline`). Reads only `run.json`, the extracted
    `submission.csv` and `snapshots/` of the run directory.

    `run_id` and `run_start` name the attempt graded (reports check them against run.json);
    `grading_version` is the grading code's digest, where the pipeline passes it."""

    run = json.loads((Path(run_dir) / "run.json").read_text())
    submission = Path(run_dir) / "submission.csv"
    if run["submission"]["accepted"]:
        report = grade_submission(submission, competition, data_dir, leaderboards, scorer, variant)
    else:
        reason = run["submission"]["rejected_reason"]
        # A failed run (timeout, oom, crashed, harness-error, cancelled) says so in the reason.
        if run["status"] not in ("ok", "no-submission"):
            reason = f"{reason} (run status: {run['status']})"
        report = build_report(
            competition, submission, False, dict.fromkeys(variants.VARIANTS, (None, reason)),
            leaderboards.thresholds(competition), variant,
        )  # fmt: skip
    out = report.to_dict()
    final_sha = _sha256(submission) if run["submission"]["accepted"] else None
    final = {n: (v["score"], v["invalid_reason"]) for n, v in report.variants.items()}
    out["timeline"] = grade_timeline(
        Path(run_dir), competition, data_dir, leaderboards.thresholds(competition), scorer,
        (final_sha, final), variant,
    )  # fmt: skip
    out.update(
        agent=run["agent"], agent_version=run["agent_version"], hardware=run["hardware"],
        seed=run["seed"], run_status=run["status"], runner=run.get("runner"),
        sandboxed=run.get("runner") not in (None, "none"), wall_seconds=run.get("wall_seconds"),
        splits=list(competition.splits), **usage_fields(run.get("usage")),
        **metering_fields(run.get("metering")), run_id=run.get("run_id"),
        run_start=run.get("start"), grading_version=grading_version,
    )  # fmt: skip
    return out


def grade_timeline(
    run_dir: Path,
    competition: Competition,
    data_dir: Path,
    thresholds: Thresholds | None,
    scorer: Scorer = score_submission,
    final: tuple[str | None, Verdicts | None] = (None, None),
    variant: str = variants.DEFAULT_VARIANT,
) -> list[dict[str, Any]] | None:
    """Score and medal of each version of the run's submission snapshots, in the order the
    harness saw them (None where the run has none): the fields of variant ``variant`` (the
    headline), and every variant's under ``variants``. Each distinct content is scored once, all
    of them in one scorer call; ``final`` (sha256 and verdicts of the graded final submission)
    is reused where a version has the same content."""
    versions = read_index(run_dir)
    if not versions:
        return None
    folder = Path(run_dir) / SNAPSHOTS_DIR
    final_sha, final_verdicts = final
    scored: dict[str, Verdicts] = {}
    if final_sha is not None and final_verdicts is not None:
        scored[final_sha] = final_verdicts
    todo = [v for v in dict.fromkeys(v["sha256"] for v in versions) if v not in scored]
    files = {v["sha256"]: folder / v["file"] for v in versions}
    for sha, result in zip(
        todo, score_many(scorer, [files[sha] for sha in todo], competition, data_dir), strict=True
    ):
        scored[sha] = result
    timeline = []
    for v in versions:
        verdicts = scored[v["sha256"]]
        each = {name: variant_fields(*verdicts[name], thresholds) for name in variants.VARIANTS}
        head = each[variant]
        medals = Medals(
            head["gold_medal"], head["silver_medal"], head["bronze_medal"], head["above_median"]
        )
        timeline.append(
            {
                "elapsed_s": v["elapsed_s"], "sha256": v["sha256"], "bytes": v["bytes"],
                "score": head["score"], "valid": head["valid_submission"],
                "invalid_reason": head["invalid_reason"], "medal": medal_name(medals),
                "any_medal": head["any_medal"], "gold_medal": head["gold_medal"],
                "silver_medal": head["silver_medal"], "bronze_medal": head["bronze_medal"],
                "above_median": head["above_median"], "variants": each,
            }
        )  # fmt: skip
    return timeline


def medal_name(medals: Medals) -> str:
    for name in ("gold", "silver", "bronze"):
        if getattr(medals, f"{name}_medal"):
            return name
    return "none"


def _sha256(path: Path) -> str | None:
    """The digest of a file the harness wrote (the extracted submission); None if absent."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        return None
    return h.hexdigest()


def metering_fields(metering: dict[str, Any] | None) -> dict[str, Any]:
    """What the run used (run.json `metering`); None where it was not measured."""
    metering = metering or {}
    return {
        "cpu_seconds": metering.get("cpu_seconds"),
        "peak_memory_mb": metering.get("peak_memory_mb"),
        "gpu_hours": metering.get("gpu_hours"),
        "disk_used_peak_mb": metering.get("disk_used_peak_mb"),
        "disk_used_end_mb": metering.get("disk_used_end_mb"),
        "disk_written_mb": metering.get("disk_written_mb"),
    }


def usage_fields(usage: dict[str, Any] | None) -> dict[str, Any]:
    """The model gateway's figures of a run (run.json `usage`); None for a run without one."""
    usage = usage or {}
    return {
        "model_requests": usage.get("requests"),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "cost_usd": usage.get("cost_usd"),
        "budget_exhausted": usage.get("budget_exhausted"),
    }
