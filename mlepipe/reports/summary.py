"""Aggregate figures from grade records alone (no run is touched).

Per seed, a rate is the share of the split's competitions with the event (any medal, gold, ...);
the reported figure is the mean over seeds +/- the standard error of that mean (ddof=1, as
MLE-bench reports), and for the any-medal rate also a bootstrap percentile interval over
competitions and seeds. pass@k uses the unbiased estimator 1 - C(n-c, k) / C(n, k) per
competition (n runs, c of them with a medal), averaged over competitions (`stats`).

A run without a grade is missing: the expected runs are every competition x seed seen in the
grades, for each agent and hardware config. `missing_seeds="pad"` counts a missing run as a
failure (MLE-bench's `--pad-missing`); "drop" leaves it out, so that a seed's rate is over the
competitions it has and pass@k over the runs that exist.

Medal rates (and pass@k) count only competitions whose medal thresholds are known: without a
leaderboard "no medal" means "not measured", not zero. Where a group has no such competition the
rate is NaN. The valid-submission rate counts every competition.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from mlepipe.grading.variants import MLEBENCH, VARIANTS
from mlepipe.registry import DERIVED_SPLITS, Registry, RegistryError
from mlepipe.reports.stats import Bootstrap, bootstrap_rate, mean_pass_at_k, paired_comparison

# Grade field -> summary column, for the rates that need medal thresholds.
MEDAL_RATES = {
    "any_medal": "any_medal_pct",
    "gold_medal": "gold_pct",
    "silver_medal": "silver_pct",
    "bronze_medal": "bronze_pct",
    "above_median": "above_median_pct",
}
# ... and for those that do not.
OTHER_RATES = {"valid_submission": "valid_pct"}
RATE_COLUMNS = {**MEDAL_RATES, **OTHER_RATES}
GROUP = ["agent", "hardware", "split"]
CONFIG = ["agent", "hardware"]
RUN_KEY = ["agent", "hardware", "competition_id", "seed"]
MISSING_SEEDS = ("pad", "drop")
# Per-competition facts a padded run takes from the competition's other grades.
COMPETITION_FIELDS = [
    "metric", "is_lower_better", "gold_threshold", "silver_threshold", "bronze_threshold",
    "median_threshold", "medals_known", "practice", "splits", "thresholds_source",
]  # fmt: skip
NO_CATEGORY = "none given"
PER_COMPETITION_COLUMNS = [
    "agent", "hardware", "competition_id", "seed", "metric", "is_lower_better", "score",
    "gold_threshold", "silver_threshold", "bronze_threshold", "median_threshold", "medals_known",
    "medal", "any_medal", "above_median", "valid_submission", "submission_exists",
    "invalid_reason", "run_status", "sandboxed", "practice", "wall_seconds",
    "model_requests", "prompt_tokens", "completion_tokens", "cost_usd", "budget_exhausted",
    "cpu_seconds", "peak_memory_mb", "gpu_hours", "disk_used_peak_mb", "disk_used_end_mb",
    "disk_written_mb",
    "grading_variant", "mlebench_score", "mlebench_medal", "mlebench_valid_submission",
    "corrected_score", "corrected_medal", "corrected_valid_submission",
]  # fmt: skip
# The fields of each variant that the per-competition table shows beside the headline's.
VARIANT_SHOWN = ["score", "medal", "valid_submission"]
MEDALS = ("gold", "silver", "bronze")


def with_medals_known(grades: pd.DataFrame) -> pd.DataFrame:
    """Adds `medals_known` where grade records lack it (made before the field existed): known iff
    a gold threshold was recorded."""
    grades = grades.copy()
    from_thresholds = (
        grades["gold_threshold"].notna()
        if "gold_threshold" in grades
        else pd.Series(False, index=grades.index)
    )
    if "medals_known" in grades:
        known = grades["medals_known"].astype(object).where(grades["medals_known"].notna())
        grades["medals_known"] = known.fillna(from_thresholds).astype(bool)
    else:
        grades["medals_known"] = from_thresholds.astype(bool)
    return grades


def load_grades(paths: list[Path]) -> pd.DataFrame:
    return grades_frame([json.loads(Path(p).read_text()) for p in paths])


def grades_frame(records: list[dict]) -> pd.DataFrame:
    """Grade records as a frame, with `medals_known` and the medal's name."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    frame = with_medals_known(frame)
    medal = np.select(
        [frame["gold_medal"], frame["silver_medal"], frame["bronze_medal"]],
        list(MEDALS),
        default="none",
    )
    frame["medal"] = pd.Series(medal, index=frame.index).where(frame["medals_known"])
    return frame.sort_values(["agent", "hardware", "competition_id", "seed"]).reset_index(drop=True)


# A grade's fields that differ between grading variants (its `variants` holds each one's).
VARIANT_FIELDS = [
    "score", "valid_submission", "invalid_reason", "any_medal", "gold_medal", "silver_medal",
    "bronze_medal", "above_median",
]  # fmt: skip


def headline_variant(grades: pd.DataFrame) -> str:
    """The variant the grades' MLE-bench fields follow (the experiment's `grading_variant`);
    mlebench for grades made before there were variants."""
    if "grading_variant" not in grades or grades["grading_variant"].isna().all():
        return MLEBENCH
    return str(grades["grading_variant"].dropna().mode().iloc[0])


def in_variant(grades: pd.DataFrame, name: str) -> pd.DataFrame:
    """The grades as variant `name` gives them: each grade's verdict and medals from its
    `variants`, and a `grading_variant` column. A grade without `variants` (made before there
    were variants) keeps its own fields."""
    grades = grades.copy()
    if "variants" in grades:
        for i, held in grades["variants"].items():
            if isinstance(held, dict) and name in held:
                for field in VARIANT_FIELDS:
                    grades.at[i, field] = held[name][field]
        grades = grades.drop(columns="variants")
    if not grades.empty and "gold_medal" in grades:
        medal = np.select(
            [grades[m].astype(bool) for m in ("gold_medal", "silver_medal", "bronze_medal")],
            list(MEDALS),
            default="none",
        )
        grades["medal"] = pd.Series(medal, index=grades.index).where(grades["medals_known"])
    grades["grading_variant"] = name
    return grades


def variants_in_order(grades: pd.DataFrame) -> list[str]:
    """Both grading variants, the headline first."""
    headline = headline_variant(grades)
    return [headline] + [v for v in VARIANTS if v != headline]


def per_variant(grades: pd.DataFrame, table: Callable[[pd.DataFrame], pd.DataFrame]):
    """`table` of the grades in each grading variant, stacked with a `grading_variant` column
    (the first one), the headline's rows first."""
    parts = []
    for name in variants_in_order(grades):
        part = table(in_variant(grades, name))
        if part.empty:
            continue
        part = part.drop(columns="grading_variant", errors="ignore")
        part.insert(0, "grading_variant", name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def per_competition(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per run, in the headline grading variant (named by `grading_variant`), with each
    variant's score, medal and validity beside it (`mlebench_score`, `corrected_medal`, ...).
    Medal columns are missing values (not False) where thresholds are unknown, so that the
    table does not claim a measured "no medal"."""
    grades = grades.copy()
    grades["grading_variant"] = headline_variant(grades)
    for name in VARIANTS:
        shown = in_variant(grades, name)
        for field in VARIANT_SHOWN:
            if field in shown:
                grades[f"{name}_{field}"] = shown[field]
    table = grades[[c for c in PER_COMPETITION_COLUMNS if c in grades.columns]].copy()
    if "medals_known" in table:
        for col in ("any_medal", "above_median"):
            if col in table:
                table[col] = table[col].astype("boolean").where(table["medals_known"])
    return table


def expected_runs(grades: pd.DataFrame) -> pd.DataFrame:
    """The runs the grades imply: for each agent and hardware config, every competition it has a
    grade for, with every seed that any grade names (seeds are the experiment's)."""
    if grades.empty:
        return pd.DataFrame(columns=RUN_KEY)
    seeds = pd.DataFrame({"seed": sorted(grades["seed"].unique())})
    pairs = grades[[*CONFIG, "competition_id"]].drop_duplicates()
    return pairs.merge(seeds, how="cross")[RUN_KEY]


def complete_runs(grades: pd.DataFrame, missing_seeds: str = "pad") -> pd.DataFrame:
    """The grades with a `missing` column; under "pad" each missing run is added as a failed
    run (no submission, no medal) with its competition's thresholds, under "drop" it is not."""
    if missing_seeds not in MISSING_SEEDS:
        raise ValueError(f"missing_seeds must be one of {MISSING_SEEDS}, got {missing_seeds!r}")
    grades = with_medals_known(grades).assign(missing=False)
    absent = expected_runs(grades).merge(grades[RUN_KEY], how="left", indicator=True)
    absent = absent[absent["_merge"] == "left_only"].drop(columns="_merge")
    if missing_seeds == "drop" or absent.empty:
        return grades
    facts = [c for c in COMPETITION_FIELDS if c in grades]
    per_competition = grades.drop_duplicates("competition_id")[["competition_id", *facts]]
    failed = {
        "score": np.nan, "any_medal": False, "gold_medal": False, "silver_medal": False,
        "bronze_medal": False, "above_median": False, "submission_exists": False,
        "valid_submission": False, "run_status": "missing", "missing": True,
    }  # fmt: skip
    padded = absent.merge(per_competition, on="competition_id").assign(**failed)
    return pd.concat([grades, padded], ignore_index=True)


def missing_counts(grades: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Missing runs per (agent, hardware): those absent from the grades."""
    absent = expected_runs(grades).merge(grades[RUN_KEY], how="left", indicator=True)
    absent = absent[absent["_merge"] == "left_only"]
    counts = absent.groupby(CONFIG).size()
    return {key: int(counts.get(key, 0)) for key in grades[CONFIG].itertuples(index=False)}


@functools.cache
def mlebench_category(competition_id: str) -> str:
    """MLE-bench's category of a competition (its definition's `mlebench_category`)."""
    try:
        spec = _registry().get(competition_id).spec
    except RegistryError:
        return NO_CATEGORY
    return spec.get("mlebench_category") or NO_CATEGORY


@functools.cache
def _registry() -> Registry:
    return Registry()


def _explode(grades: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per (grade, group). By split: each competition's own splits, derived splits and
    'all'; by category: its MLE-bench category."""
    rows = []
    for _, g in grades.iterrows():
        if by == "category":
            groups = {mlebench_category(g["competition_id"])}
        else:
            groups = set(g["splits"]) | {"all"}
            for name, members in DERIVED_SPLITS.items():
                if not groups.isdisjoint(members):
                    groups.add(name)
        for s in sorted(groups):
            rows.append({**g.to_dict(), by: s})
    return pd.DataFrame(rows)


def _mean_sem(group: pd.DataFrame, col: str) -> tuple[float, float]:
    """Mean and SEM over seeds of the per-seed share (in %) of rows with `col` true."""
    per_seed = group.groupby("seed")[col].mean().dropna() * 100.0
    if per_seed.empty:
        return np.nan, np.nan
    sem = per_seed.std(ddof=1) / np.sqrt(len(per_seed)) if len(per_seed) > 1 else np.nan
    return float(per_seed.mean()), float(sem)


def outcomes(group: pd.DataFrame, col: str = "any_medal") -> tuple[list[str], np.ndarray]:
    """The competitions of a group and their competitions x seeds matrix of `col` (1/0), NaN
    where a run is absent."""
    table = group.pivot_table(index="competition_id", columns="seed", values=col, aggfunc="max")
    return list(table.index), table.to_numpy(dtype=float)


def summarize(
    grades: pd.DataFrame,
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
    by: str = "split",
) -> pd.DataFrame:
    """One row per agent x hardware x split (or MLE-bench category): rates as mean and SEM over
    seeds, the any-medal rate's bootstrap interval, and pass@k for k = 1 .. seeds."""
    if grades.empty:
        return pd.DataFrame()
    bootstrap = bootstrap or Bootstrap()
    missing = missing_counts(with_medals_known(grades))
    long = _explode(complete_runs(grades, missing_seeds), by)
    seeds = int(grades["seed"].nunique())
    out = []
    for key, group in long.groupby([*CONFIG, by], sort=True):
        known = group[group["medals_known"]]
        row = dict(zip([*CONFIG, by], key, strict=True))
        row["competitions"] = group["competition_id"].nunique()
        row["medal_competitions"] = known["competition_id"].nunique()
        row["seeds"] = group["seed"].nunique()
        row["runs"] = int((~group["missing"]).sum())
        row["missing_runs"] = missing[key[0], key[1]]
        row["missing_seeds"] = missing_seeds
        for col, name in RATE_COLUMNS.items():
            row[name], row[name + "_sem"] = _mean_sem(known if col in MEDAL_RATES else group, col)
        low, high = bootstrap_rate(outcomes(known)[1], bootstrap) if len(known) else (np.nan,) * 2
        row["any_medal_ci_low"], row["any_medal_ci_high"] = low * 100.0, high * 100.0
        row["ci_level"] = bootstrap.level
        real = group[~group["missing"]]
        row["sandboxed_pct"] = float(real["sandboxed"].astype(float).mean() * 100.0)
        row.update(usage_totals(real))
        row.update(compute_totals(real))
        matrix = outcomes(known)[1] if len(known) else np.empty((0, 0))
        for k in range(1, seeds + 1):
            row[f"pass@{k}_pct"] = mean_pass_at_k(matrix, k) * 100.0
        out.append(row)
    return pd.DataFrame(out)


def compare_agents(
    grades: pd.DataFrame,
    agent_a: str,
    agent_b: str,
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agent a against agent b on each hardware config both ran, per split: over the
    competitions with known medals that both have runs of, the mean difference of their
    any-medal rates over seeds (a - b, in points), its paired bootstrap interval, and the sign
    test. Returns that table and the per-competition differences (split 'all')."""
    bootstrap = bootstrap or Bootstrap()
    for agent in (agent_a, agent_b):
        if grades.empty or agent not in set(grades["agent"]):
            raise ValueError(f"no grades of agent '{agent}'")
    long = _explode(complete_runs(grades, missing_seeds), "split")
    long = long[long["medals_known"]]
    rows, per_competition = [], []
    hardware = sorted(
        set(grades.loc[grades["agent"] == agent_a, "hardware"])
        & set(grades.loc[grades["agent"] == agent_b, "hardware"])
    )
    for hw in hardware:
        for split in sorted(set(long.loc[long["hardware"] == hw, "split"])):
            here = long[(long["hardware"] == hw) & (long["split"] == split)]
            ids_a, a = outcomes(here[here["agent"] == agent_a])
            ids_b, b = outcomes(here[here["agent"] == agent_b])
            both = sorted(set(ids_a) & set(ids_b))
            a = a[[ids_a.index(c) for c in both]] if both else np.empty((0, 0))
            b = b[[ids_b.index(c) for c in both]] if both else np.empty((0, 0))
            paired = paired_comparison(both, a, b, bootstrap)
            rows.append({
                "agent_a": agent_a, "agent_b": agent_b, "hardware": hw, "split": split,
                "competitions": len(both),
                "rate_a_pct": float(paired.rate_a.mean() * 100) if both else np.nan,
                "rate_b_pct": float(paired.rate_b.mean() * 100) if both else np.nan,
                "mean_difference_pct": paired.mean_difference * 100,
                "ci_low_pct": paired.ci_low * 100, "ci_high_pct": paired.ci_high * 100,
                "ci_level": bootstrap.level, "wins": paired.wins, "losses": paired.losses,
                "ties": paired.ties, "sign_test_p": paired.sign_test_p,
                "missing_seeds": missing_seeds,
            })  # fmt: skip
            if split == "all":
                per_competition += [
                    {"hardware": hw, "competition_id": c, "rate_a_pct": ra * 100,
                     "rate_b_pct": rb * 100, "difference_pct": (ra - rb) * 100}
                    for c, ra, rb in zip(both, paired.rate_a, paired.rate_b, strict=True)
                ]  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(
        per_competition,
        columns=["hardware", "competition_id", "rate_a_pct", "rate_b_pct", "difference_pct"],
    )


def usage_totals(group: pd.DataFrame) -> dict[str, float]:
    """Model tokens and cost of a group's runs (NaN without gateway runs). The cost is NaN where
    a run that called a model has no cost (a model without a price): never a partial sum."""
    out = dict.fromkeys(
        ["model_requests", "prompt_tokens", "completion_tokens", "cost_usd", "cost_per_run_usd"],
        np.nan,
    )
    if "model_requests" not in group or group["model_requests"].isna().all():
        return out
    for name in ("model_requests", "prompt_tokens", "completion_tokens"):
        out[name] = float(pd.to_numeric(group[name]).fillna(0).sum())
    called = pd.to_numeric(group["model_requests"]).fillna(0) > 0
    costs = pd.to_numeric(group["cost_usd"])
    if not costs[called].isna().any():
        out["cost_usd"] = round(float(costs.fillna(0).sum()), 6)
        out["cost_per_run_usd"] = round(out["cost_usd"] / len(group), 6)
    return out


def compute_totals(group: pd.DataFrame) -> dict[str, float]:
    """CPU-hours, GPU-hours and disk written (MB) of a group's runs, and the largest disk use of
    any run: NaN where any run's figure is missing (never a partial figure)."""
    out = {}

    def values(column: str) -> pd.Series | None:
        got = pd.to_numeric(group[column]) if column in group else pd.Series(dtype=float)
        return None if got.empty or got.isna().any() else got

    for name, column in (("cpu_hours", "cpu_seconds"), ("gpu_hours", "gpu_hours")):
        got = values(column)
        total = np.nan if got is None else float(got.sum())
        out[name] = round(total / 3600, 4) if name == "cpu_hours" and pd.notna(total) else total
    got = values("disk_used_peak_mb")
    out["disk_used_peak_mb_max"] = np.nan if got is None else float(got.max())
    got = values("disk_written_mb")
    out["disk_written_mb"] = np.nan if got is None else round(float(got.sum()), 3)
    return out


def _rate_text(mean: float, sem: float) -> str:
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.1f} ± {sem:.1f} %" if pd.notna(sem) else f"{mean:.1f} %"


def grades_dir(path: Path | str) -> Path:
    """The grades folder (<agent>/<hardware>/<competition>/<seed>.json) of a results folder, or
    the folder itself."""
    path = Path(path)
    return path / "grades" if (path / "grades").is_dir() else path


def read_grade_records(folder: Path | str) -> tuple[list[dict], list[Path]]:
    """The grade records under a grades (or results) folder, and the files that could not be
    read."""
    records, unreadable = [], []
    for path in sorted(grades_dir(folder).glob("*/*/*/*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            unreadable.append(path)
    return records, unreadable


def _run_key(grade: dict) -> str:
    """agent/hardware/competition/seed: the run's place under runs/ (and its grade's)."""
    return "/".join(str(grade.get(k)) for k in ("agent", "hardware", "competition_id", "seed"))


def grade_out_of_date(grade: dict, results: Path) -> str | None:
    """Why a grade no longer describes its run (the run was redone since), or None. A grade
    names the attempt it graded (run_id); older grades without one are compared by date."""
    run_json = results / "runs" / _run_key(grade) / "run.json"
    try:
        run = json.loads(run_json.read_text())
    except FileNotFoundError:
        return None  # nothing to compare with
    except (OSError, ValueError):
        return f"{run_json} is unreadable"
    if grade.get("run_id") is not None or run.get("run_id") is not None:
        if grade.get("run_id") != run.get("run_id"):
            return "its run was redone since"
        return None
    grade_file = results / "grades" / f"{_run_key(grade)}.json"
    if grade_file.is_file() and run_json.stat().st_mtime > grade_file.stat().st_mtime:
        return "its run.json is newer"
    return None


def print_run_summary(
    results_dir: Path | str,
    log: Path | str | list | None = None,
    failed: bool = False,
    stream: TextIO | None = None,
    max_failures: int = 10,
) -> None:
    """A few lines for the end of a pipeline run: where the reports are, the medal rate per
    agent and split, and the failed runs with their logs. Prints what exists (reports may not
    have been built, e.g. after `--until`)."""
    out = stream or sys.stdout
    results = Path(results_dir)
    reports = results / "reports"

    def say(text: str = "") -> None:
        print(text, file=out)

    say()
    if isinstance(log, (list, tuple)):  # Snakemake hands over a list of log files
        log = ", ".join(map(str, log))
    if failed:
        say(
            "mlepipe: the workflow stopped with errors" + (f"; Snakemake log: {log}" if log else "")
        )
    grades, unreadable = read_grade_records(results / "grades")
    checked = [(g, grade_out_of_date(g, results)) for g in grades]
    out_of_date = [(g, why) for g, why in checked if why]
    grades = [g for g, why in checked if not why]
    summary_csv = reports / "summary.csv"
    # A run directory is made anew for every attempt: one newer than the reports was (or is
    # being) redone since they were built, whether or not that attempt succeeded.
    redone = summary_csv.is_file() and any(
        run_dir.stat().st_mtime > summary_csv.stat().st_mtime
        for run_dir in (results / "runs").glob("*/*/*/*")
    )
    if summary_csv.is_file() and (out_of_date or redone):
        say(f"mlepipe: the reports in {reports}/ are out of date: runs were redone since")
    elif summary_csv.is_file():
        say(f"mlepipe: reports in {reports}/")
        try:
            summary = pd.read_csv(summary_csv)
        except (OSError, ValueError, pd.errors.EmptyDataError):
            summary = pd.DataFrame()
        if not summary.empty and set(GROUP + ["any_medal_pct"]) <= set(summary):
            say("Any-medal rate (mean ± SEM over seeds), over competitions with known medals:")
            if "grading_variant" in summary:
                say(
                    f"  (headline grading variant: {summary['grading_variant'].iloc[0]}; "
                    "mlebench = MLE-bench 783b15a's verdicts, corrected = ours)"
                )
            for r in summary.to_dict("records"):
                label = f"[{r['grading_variant']}] " if "grading_variant" in r else ""
                known, total = r.get("medal_competitions"), r.get("competitions")
                n = (
                    f"{int(known)} of {total} competitions with known medals"
                    if pd.notna(known)
                    else f"{total} competitions"  # a summary from before the column existed
                )
                say(
                    f"  {label}{r['agent']} / {r['hardware']}, {r['split']}: "
                    f"{_rate_text(r['any_medal_pct'], r.get('any_medal_pct_sem', np.nan))} "
                    f"({n}, {r.get('seeds')} seeds)"
                )
    else:
        say(f"mlepipe: no reports yet (no {summary_csv})")

    bad = [g for g in grades if g.get("run_status", "ok") != "ok"]
    say(f"Runs graded: {len(grades)}; failed (run status not ok): {len(bad)}")
    if unreadable:
        say(f"  {len(unreadable)} grade file(s) unreadable, e.g. {unreadable[0]}")
    if out_of_date:
        say(f"  {len(out_of_date)} grade(s) out of date, not counted:")
        for g, why in out_of_date[:max_failures]:
            say(f"  {_run_key(g)}: {why}")
    for g in bad[:max_failures]:
        key = _run_key(g)
        say(
            f"  {key} {g.get('run_status')}: {results / 'runs' / key / 'logs'}/, "
            f"{results / 'logs' / 'runs' / key}.log"
        )
    if len(bad) > max_failures:
        say(f"  ... and {len(bad) - max_failures} more")
