"""Aggregate figures from grade records alone (no run is touched).

Per seed, a rate is the share of the split's competitions with the event (any medal, gold, ...);
the reported figure is the mean over seeds +/- the standard error of that mean (ddof=1, as
MLE-bench reports). pass@k uses the unbiased estimator 1 - C(n-c, k) / C(n, k) per competition
(n runs, c of them with a medal), averaged over competitions.

Medal rates (and pass@k) count only competitions whose medal thresholds are known: without a
leaderboard "no medal" means "not measured", not zero. Where a group has no such competition the
rate is NaN. The valid-submission rate counts every competition.
"""

from __future__ import annotations

import json
import sys
from math import comb
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from mlepipe.registry import DERIVED_SPLITS

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
PER_COMPETITION_COLUMNS = [
    "agent", "hardware", "competition_id", "seed", "metric", "is_lower_better", "score",
    "gold_threshold", "silver_threshold", "bronze_threshold", "median_threshold", "medals_known",
    "medal", "any_medal", "above_median", "valid_submission", "submission_exists",
    "invalid_reason", "run_status", "sandboxed", "practice", "wall_seconds",
]  # fmt: skip
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
    rows = [json.loads(Path(p).read_text()) for p in paths]
    frame = pd.DataFrame(rows)
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


def per_competition(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per run. Medal columns are missing values (not False) where thresholds are
    unknown, so that the table does not claim a measured "no medal"."""
    table = grades[[c for c in PER_COMPETITION_COLUMNS if c in grades.columns]].copy()
    if "medals_known" in table:
        for col in ("any_medal", "above_median"):
            if col in table:
                table[col] = table[col].astype("boolean").where(table["medals_known"])
    return table


def _explode_splits(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per (grade, split): each competition's own splits, derived splits and 'all'."""
    rows = []
    for _, g in grades.iterrows():
        splits = set(g["splits"]) | {"all"}
        for name, members in DERIVED_SPLITS.items():
            if not splits.isdisjoint(members):
                splits.add(name)
        for s in sorted(splits):
            rows.append({**g.to_dict(), "split": s})
    return pd.DataFrame(rows)


def pass_at_k(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def _mean_sem(group: pd.DataFrame, col: str) -> tuple[float, float]:
    """Mean and SEM over seeds of the per-seed share (in %) of rows with `col` true."""
    per_seed = group.groupby("seed")[col].mean().dropna() * 100.0
    if per_seed.empty:
        return np.nan, np.nan
    sem = per_seed.std(ddof=1) / np.sqrt(len(per_seed)) if len(per_seed) > 1 else np.nan
    return float(per_seed.mean()), float(sem)


def summarize(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per agent x hardware x split: rates as mean and SEM over seeds, and pass@k."""
    if grades.empty:
        return pd.DataFrame()
    long = _explode_splits(with_medals_known(grades))
    out = []
    for key, group in long.groupby(GROUP, sort=True):
        known = group[group["medals_known"]]
        row = dict(zip(GROUP, key, strict=True))
        row["competitions"] = group["competition_id"].nunique()
        row["medal_competitions"] = known["competition_id"].nunique()
        row["seeds"] = group["seed"].nunique()
        row["runs"] = len(group)
        for col, name in RATE_COLUMNS.items():
            row[name], row[name + "_sem"] = _mean_sem(known if col in MEDAL_RATES else group, col)
        row["sandboxed_pct"] = float(group["sandboxed"].mean() * 100.0)
        # k runs up to the fewest runs of any competition, so that every row of one experiment
        # has the same pass@k columns, also where no medal is known.
        n_min = int(group.groupby("competition_id").size().min())
        per_comp = known.groupby("competition_id")["any_medal"].agg(["size", "sum"])
        for k in range(1, n_min + 1):
            values = [pass_at_k(int(n), int(c), k) for n, c in per_comp.itertuples(index=False)]
            row[f"pass@{k}_pct"] = float(np.mean(values) * 100.0) if values else np.nan
        out.append(row)
    return pd.DataFrame(out)


def _rate_text(mean: float, sem: float) -> str:
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.1f} ± {sem:.1f} %" if pd.notna(sem) else f"{mean:.1f} %"


def _grade_records(results: Path) -> tuple[list[dict], list[Path]]:
    """The grade records under results/grades/, and the files that could not be read."""
    records, unreadable = [], []
    for path in sorted((results / "grades").glob("*/*/*/*.json")):
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
    grades, unreadable = _grade_records(results)
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
            for r in summary.to_dict("records"):
                known, total = r.get("medal_competitions"), r.get("competitions")
                n = (
                    f"{int(known)} of {total} competitions with known medals"
                    if pd.notna(known)
                    else f"{total} competitions"  # a summary from before the column existed
                )
                say(
                    f"  {r['agent']} / {r['hardware']}, {r['split']}: "
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
