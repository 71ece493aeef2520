"""Anytime results from the grades' timelines: the medal rate at elapsed time T, and each
competition's best score so far.

A run's grade holds a `timeline`: every version of its submission that the harness kept, with
its elapsed time, score and medal (mlepipe.grading.report.grade_timeline). At time T a run has
the medal of its last version seen at or before T; a run with no version yet has none. A grade
without a timeline (snapshots were off) has its final submission from its wall time on.

The T grid (experiment `medal_at_time`): every whole hour up to the hardware config's time
limit (or the `hours` given, those within the limit), and `fractions` of the time limit. At each
T the rate is computed as in the summary table: per seed, the share of the split's competitions
with known medals that have any medal at T; then mean and standard error (ddof=1) over seeds.
Missing runs are padded (no medal at any T) or dropped, as `missing_seeds` says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from mlepipe.reports.charts import MEDAL_COLOURS, THRESHOLD_COLOURS, write_chart
from mlepipe.reports.summary import (
    CONFIG,
    _explode,
    _mean_sem,
    complete_runs,
    load_grades,
)
from mlepipe.reports.tables import NA, Column, _write_views, cells, direction, number, rate

DEFAULT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
MAX_HOURS = 48  # default hour points at most
MEDAL_AT_TIME_COLUMNS = [
    "agent", "hardware", "split", "t_kind", "t_value", "t_label", "t_seconds", "competitions",
    "medal_competitions", "seeds", "runs_with_versions", "any_medal_pct", "any_medal_pct_sem",
    "valid_pct", "valid_pct_sem",
]  # fmt: skip


# --- one run at time T ------------------------------------------------------------------------


def _timeline(value) -> list[dict] | None:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    return None


def outcome_at(run: Mapping, t_seconds: float) -> tuple[bool, bool]:
    """(valid submission, any medal) of one graded run at elapsed time ``t_seconds``."""
    timeline = _timeline(run.get("timeline"))
    if timeline is not None:
        seen = [e for e in timeline if e["elapsed_s"] <= t_seconds]
        if not seen:
            return False, False
        last = seen[-1]
        return bool(last["valid"]), bool(last["any_medal"])
    wall = run.get("wall_seconds")
    if wall is None or (isinstance(wall, float) and math.isnan(wall)) or wall > t_seconds:
        return False, False
    return bool(run.get("valid_submission")), bool(run.get("any_medal"))


# --- the grid ---------------------------------------------------------------------------------


def time_grid(
    limit_seconds: float, hours: Sequence[float] | None = None, fractions: Sequence[float] = ()
) -> list[dict]:
    """The points T for a time limit: {t_kind, t_value, t_label, t_seconds}, hours first."""
    if hours is None:
        hours = range(1, min(int(limit_seconds // 3600), MAX_HOURS) + 1)
    points = [
        {"t_kind": "hours", "t_value": float(h), "t_label": f"{float(h):g} h",
         "t_seconds": float(h) * 3600.0}
        for h in hours if float(h) * 3600.0 <= limit_seconds
    ]  # fmt: skip
    points += [
        {"t_kind": "fraction", "t_value": float(f), "t_label": f"{float(f):g} of the limit",
         "t_seconds": float(f) * limit_seconds}
        for f in fractions
    ]  # fmt: skip
    return points


# --- the table --------------------------------------------------------------------------------


def medal_at_time(
    grades: pd.DataFrame,
    time_limits: Mapping[str, float],
    hours: Sequence[float] | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    missing_seeds: str = "pad",
) -> pd.DataFrame:
    """One row per agent x hardware x split x T: the any-medal and valid-submission rates at
    T, mean and SEM over seeds. ``time_limits``: each hardware config's limit in seconds."""
    if grades.empty:
        return pd.DataFrame(columns=MEDAL_AT_TIME_COLUMNS)
    runs = complete_runs(grades, missing_seeds)
    if "timeline" not in runs:
        runs["timeline"] = None
    long = _explode(runs, "split")
    out = []
    for key, group in long.groupby([*CONFIG, "split"], sort=True):
        limit = float(time_limits[key[1]])
        records = group.to_dict("records")
        with_versions = sum(bool(_timeline(r.get("timeline"))) for r in records)
        for point in time_grid(limit, hours, fractions):
            at = [outcome_at(r, point["t_seconds"]) for r in records]
            frame = group.assign(valid_at=[v for v, _ in at], medal_at=[m for _, m in at])
            known = frame[frame["medals_known"]]
            row = dict(zip([*CONFIG, "split"], key, strict=True), **point)
            row["competitions"] = frame["competition_id"].nunique()
            row["medal_competitions"] = known["competition_id"].nunique()
            row["seeds"] = frame["seed"].nunique()
            row["runs_with_versions"] = with_versions
            row["any_medal_pct"], row["any_medal_pct_sem"] = _mean_sem(known, "medal_at")
            row["valid_pct"], row["valid_pct_sem"] = _mean_sem(frame, "valid_at")
            out.append(row)
    return pd.DataFrame(out, columns=MEDAL_AT_TIME_COLUMNS)


def medal_at_time_note(missing_seeds: str) -> str:
    how = "counted as no medal" if missing_seeds == "pad" else "left out"
    return (
        "Any-medal rate at elapsed time T: a run has the medal of the last version of its "
        "submission the harness kept at or before T, none before its first. Per seed, the share "
        "of the split's competitions with known medals; mean ± SEM over seeds. T is in hours "
        "(up to the time limit) and in fractions of each hardware config's time limit. "
        f"Missing runs are {how}."
    )


def medal_at_time_columns() -> list[Column]:
    return [
        Column("agent", lambda r: str(r["agent"])),
        Column("hardware", lambda r: str(r["hardware"])),
        Column("split", lambda r: str(r["split"])),
        Column("T", lambda r: str(r["t_label"])),
        Column("T (s)", lambda r: f"{r['t_seconds']:g}", numeric=True),
        Column("any medal (%)", lambda r: rate(r["any_medal_pct"], r["any_medal_pct_sem"]),
               numeric=True),  # fmt: skip
        Column("valid (%)", lambda r: rate(r["valid_pct"], r["valid_pct_sem"]), numeric=True),
        Column("competitions (with medals)",
               lambda r: f"{r['competitions']} ({r['medal_competitions']})", numeric=True),
        Column("seeds", lambda r: str(r["seeds"]), numeric=True),
    ]  # fmt: skip


# --- best so far ------------------------------------------------------------------------------


def best_so_far(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per kept version of every run with a timeline: its elapsed time and the best
    valid score up to then (in the competition's direction), with that score's medal."""
    rows = []
    for g in grades.to_dict("records"):
        timeline = _timeline(g.get("timeline"))
        if not timeline:
            continue
        lower = bool(g.get("is_lower_better"))
        best, medal = None, None
        known = bool(g.get("medals_known"))
        for e in timeline:
            score = e.get("score")
            if score is not None and (best is None or (score < best if lower else score > best)):
                best, medal = score, e.get("medal")
            rows.append({
                "agent": g["agent"], "hardware": g["hardware"],
                "competition_id": g["competition_id"], "seed": g["seed"],
                "elapsed_s": e["elapsed_s"], "score": score, "best_score": best,
                "best_medal": None if best is None else medal if known else NA,
            })  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["agent", "hardware", "competition_id", "seed", "elapsed_s", "score",
                 "best_score", "best_medal"],
    )  # fmt: skip


def _panel(curves: pd.DataFrame, facts: Mapping, unit: tuple[str, float]) -> alt.LayerChart:
    name, per = unit
    metric = facts.get("metric") or "score"
    better = direction(facts.get("is_lower_better"))
    data = curves[curves["best_score"].notna()].assign(
        run=lambda d: d["agent"] + " / " + d["hardware"] + " / seed " + d["seed"].astype(str),
        elapsed=lambda d: d["elapsed_s"] / per,
        best_text=lambda d: d["best_score"].map(number),
        best_medal=lambda d: d["best_medal"].fillna(NA),
    )
    x = alt.X("elapsed:Q", title=f"elapsed ({name})", scale=alt.Scale(zero=True))
    y = alt.Y("best_score:Q", title=f"best {metric} so far ({better})", scale=alt.Scale(zero=False))
    tooltip = [
        alt.Tooltip("run:N"),
        alt.Tooltip("elapsed:Q", title=f"elapsed ({name})", format=".3g"),
        alt.Tooltip("best_text:N", title="best score"),
        alt.Tooltip("best_medal:N", title="medal"),
    ]
    lines = (
        alt.Chart(data)
        .mark_line(interpolate="step-after")
        .encode(x=x, y=y, color=alt.Color("run:N", title="run"), tooltip=tooltip)
    )
    points = alt.Chart(data).mark_point(filled=True, size=50, stroke="#666666").encode(
        x=x, y=y, tooltip=tooltip,
        fill=alt.Fill("best_medal:N", title="medal",
                      scale=alt.Scale(domain=list(MEDAL_COLOURS),
                                      range=list(MEDAL_COLOURS.values()))),
    )  # fmt: skip
    layers: list[alt.Chart] = [lines, points]
    thresholds = pd.DataFrame(
        [{"threshold": t, "value": facts.get(f"{t}_threshold")} for t in THRESHOLD_COLOURS]
    ).dropna()
    if not thresholds.empty:
        layers.append(
            alt.Chart(thresholds).mark_rule(strokeDash=[5, 3]).encode(
                y="value:Q",
                stroke=alt.Stroke("threshold:N", title="threshold",
                                  scale=alt.Scale(domain=list(THRESHOLD_COLOURS),
                                                  range=list(THRESHOLD_COLOURS.values()))),
            )
        )  # fmt: skip
    return alt.layer(*layers).properties(
        width=460, height=220,
        title=alt.TitleParams(str(facts["competition_id"]), subtitle=f"metric {metric}, {better}",
                              anchor="start"),
    )  # fmt: skip


def best_so_far_chart(curves: pd.DataFrame, grades: pd.DataFrame) -> alt.VConcatChart:
    """One panel per competition: each run's best score so far as a step line over elapsed
    time, the points coloured by that score's medal, with the medal thresholds as rules."""
    longest = float(curves["elapsed_s"].max()) if not curves.empty else 0.0
    unit = ("h", 3600.0) if longest >= 3600 else ("min", 60.0) if longest >= 120 else ("s", 1.0)
    facts = grades.drop_duplicates("competition_id").set_index("competition_id", drop=False)
    panels = [
        _panel(group, facts.loc[cid].to_dict(), unit)
        for cid, group in curves.groupby("competition_id", sort=True)
    ]
    if not panels:
        return alt.vconcat(alt.Chart(pd.DataFrame({"x": []})).mark_text()).properties(
            title="Best score so far: no run has submission snapshots"
        )
    return alt.vconcat(*panels, spacing=28).properties(title="Best score so far per competition")


# --- all of it --------------------------------------------------------------------------------


def write_anytime(
    grade_files: Iterable[Path | str],
    outputs: Mapping[str, str | Path],
    time_limits: Mapping[str, float],
    hours: Sequence[float] | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    missing_seeds: str = "pad",
) -> pd.DataFrame:
    """Writes `medal_at_time_{csv,md,html}`, `best_so_far_csv` and `best_so_far_{html,svg}`
    where `outputs` names a path; returns the medal-at-T table."""
    grades = load_grades([Path(p) for p in grade_files])
    table = medal_at_time(grades, time_limits, hours, fractions, missing_seeds)
    columns = medal_at_time_columns()
    section = (None, medal_at_time_note(missing_seeds), columns, cells(table, columns))
    _write_views("medal_at_time", table, "Medal rate at elapsed time T", [section], outputs)
    curves = best_so_far(grades) if not grades.empty else best_so_far(pd.DataFrame())
    if outputs.get("best_so_far_csv"):
        curves.to_csv(outputs["best_so_far_csv"], index=False)
    write_chart(
        best_so_far_chart(curves, grades),
        "Best score so far per competition",
        outputs.get("best_so_far_html"),
        outputs.get("best_so_far_svg"),
    )
    return table
