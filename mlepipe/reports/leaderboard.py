"""An experiment as MLE-bench's leaderboard asks for it: grading reports in its run-group layout,
and the Markdown table of its README.

- `runs/<run group>/<timestamp>_grading_report.json`: one run group per agent x hardware x
  seed (as leaderboard submitters lay out one group per seed), holding the grades' MLE-bench
  fields only, with `mlebench grade`'s totals. The timestamp is the group's latest grade time in
  UTC, so the same grades give the same files. Runs without a grade are not invented here;
  MLE-bench's `experiments/aggregate_grading_reports.py --pad-missing` pads them.
- `runs/run_group_experiments.csv`: experiment id (`<agent>_<hardware>`) -> run group, the map
  that aggregation script reads.
- `leaderboard.md`: per agent and hardware, the any-medal rate (mean ± SEM over seeds, percent)
  for Low (= Lite), Medium, High and All (split75), with the time limit and the hardware.

All of it follows the mlebench grading variant (MLE-bench 783b15a's verdicts), whatever the
experiment's headline variant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mlepipe.grading.report import record_in_variant
from mlepipe.grading.variants import MLEBENCH
from mlepipe.registry import Registry
from mlepipe.reports.stats import Bootstrap
from mlepipe.reports.summary import summarize, with_medals_known
from mlepipe.reports.tables import NA, md_cell

# The fields of a competition report as `mlebench grade` writes them, in its order (the grade
# records start with exactly these; tests hold the two lists together).
MLEBENCH_REPORT_FIELDS = (
    "competition_id", "score", "gold_threshold", "silver_threshold", "bronze_threshold",
    "median_threshold", "any_medal", "gold_medal", "silver_medal", "bronze_medal", "above_median",
    "submission_exists", "valid_submission", "is_lower_better", "created_at", "submission_path",
)  # fmt: skip
# The README's columns: split -> header.
LEADERBOARD_SPLITS = {
    "low": "Low == Lite (%)",
    "medium": "Medium (%)",
    "high": "High (%)",
    "split75": "All (%)",
}
EXPERIMENTS_CSV = "run_group_experiments.csv"


def run_group_name(agent: str, hardware: str, seed: int) -> str:
    return f"{agent}_{hardware}_seed{seed}"


def experiment_id(agent: str, hardware: str) -> str:
    return f"{agent}_{hardware}"


def _stamp(created: Iterable[str]) -> str:
    """The latest grade time as MLE-bench names reports (YYYY-MM-DDTHH-MM-SS-UTC); a time
    without a zone is read as this machine's local time, as the grader wrote it."""
    latest = max(datetime.fromisoformat(c).astimezone(UTC) for c in created)
    return latest.strftime("%Y-%m-%dT%H-%M-%S-UTC")


def grading_report(records: list[dict]) -> dict:
    """`mlebench grade`'s report of some grades: its totals and the competition reports."""

    def total(name: str) -> int:
        return sum(bool(r[name]) for r in records)

    medals = [total(f"{m}_medal") for m in ("gold", "silver", "bronze")]
    return {
        "total_runs": len(records),
        "total_runs_with_submissions": total("submission_exists"),
        "total_valid_submissions": total("valid_submission"),
        "total_medals": sum(medals),
        "total_gold_medals": medals[0],
        "total_silver_medals": medals[1],
        "total_bronze_medals": medals[2],
        "total_above_median": total("above_median"),
        "competition_reports": [{f: r[f] for f in MLEBENCH_REPORT_FIELDS} for r in records],
    }


def write_run_groups(records: list[dict], runs_dir: Path) -> list[Path]:
    """Writes one grading report per agent x hardware x seed under `runs_dir`, and the
    experiments map; returns the reports' paths."""
    runs_dir = Path(runs_dir)
    groups: dict[tuple[str, str, int], list[dict]] = {}
    for r in sorted(records, key=lambda r: (r["agent"], r["hardware"], r["seed"])):
        groups.setdefault((r["agent"], r["hardware"], int(r["seed"])), []).append(r)
    paths, experiments = [], ["experiment_id,run_group"]
    for (agent, hardware, seed), members in groups.items():
        members.sort(key=lambda r: str(r["competition_id"]))
        name = run_group_name(agent, hardware, seed)
        path = runs_dir / name / f"{_stamp(r['created_at'] for r in members)}_grading_report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(grading_report(members), indent=2) + "\n")
        paths.append(path)
        experiments.append(f"{experiment_id(agent, hardware)},{name}")
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / EXPERIMENTS_CSV).write_text("\n".join(experiments) + "\n")
    return paths


def hardware_text(spec: Mapping) -> str:
    """'36 CPUs, 440 GB RAM, 1 x a10' from a hardware config's run limits."""
    parts = [f"{spec['cpus']} CPUs", f"{spec['memory_mb'] / 1000:g} GB RAM"]
    if spec.get("gpus"):
        parts.append(f"{spec['gpus']} x {spec.get('gpu_model') or 'GPU'}")
    return ", ".join(parts)


def leaderboard_markdown(
    grades: pd.DataFrame,
    hardware: Mapping[str, Mapping],
    missing_seeds: str = "pad",
    registry: Registry | None = None,
) -> str:
    """The README's table: any-medal rate per split as mean ± SEM (2 decimals, percent); where
    the experiment covers only part of a split, the cell says how much ("k of N
    competitions"); n/a where it has no competition of the split with known medals."""
    registry = registry or Registry()
    # The table shows no interval: one bootstrap draw keeps its cost out.
    summary = summarize(with_medals_known(grades), missing_seeds, Bootstrap(resamples=1))
    header = ["Agent", "Hardware", *LEADERBOARD_SPLITS.values(), "Time limit (hours)",
              "Hardware used", "Seeds", "Missing runs"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for (agent, hw), rows in summary.groupby(["agent", "hardware"], sort=True):
        by_split = rows.set_index("split")
        cells = [agent, hw]
        for split in LEADERBOARD_SPLITS:
            cells.append(_split_cell(by_split, split, len(registry.split(split))))
        spec = hardware.get(hw)
        cells.append(f"{spec['time_limit_seconds'] / 3600:g}" if spec else NA)
        cells.append(hardware_text(spec) if spec else NA)
        cells.append(str(int(rows["seeds"].max())))
        cells.append(str(int(rows["missing_runs"].iloc[0])))
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    note = (
        "Any-medal rate in percent, mean ± standard error over seeds, over the competitions with "
        "known medal thresholds; All = split75. "
        + {
            "pad": "Missing runs count as failures (padded, as MLE-bench's --pad-missing).",
            "drop": "Missing runs are left out (missing_seeds: drop).",
        }[missing_seeds]
    )
    return "## MLE-bench leaderboard\n\n" + note + "\n\n" + "\n".join(lines) + "\n"


def _split_cell(by_split: pd.DataFrame, split: str, split_size: int) -> str:
    if split not in by_split.index or pd.isna(by_split.loc[split, "any_medal_pct"]):
        return NA
    row = by_split.loc[split]
    sem = row["any_medal_pct_sem"]
    cell = f"{row['any_medal_pct']:.2f} ± {NA if pd.isna(sem) else f'{sem:.2f}'}"
    known = int(row["medal_competitions"])
    return cell if known == split_size else f"{cell} ({known} of {split_size} competitions)"


def export_leaderboard(
    records: list[dict],
    out_dir: Path,
    hardware: Mapping[str, Mapping],
    missing_seeds: str = "pad",
) -> tuple[list[Path], Path]:
    """Writes `<out_dir>/runs/...` and `<out_dir>/leaderboard.md`; returns their paths. Both
    follow the mlebench grading variant, whatever the experiment's headline: they are
    MLE-bench's own format, compared with its published numbers."""
    records = [record_in_variant(r, MLEBENCH) for r in records]
    out_dir = Path(out_dir)
    reports = write_run_groups(records, out_dir / "runs")
    table = out_dir / "leaderboard.md"
    grades = pd.DataFrame(records)
    table.write_text(leaderboard_markdown(grades, hardware, missing_seeds))
    return reports, table
