"""The report charts (Altair): medal rate per agent and split with standard-error bars, medal
rate against the mean cost of a run, and each competition's scores against its medal thresholds.
HTML pages carry Vega, Vega-Lite and vega-embed inline (they open without network); SVG comes
from vl-convert.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from mlepipe.reports.tables import NA, direction, number

MEDAL_COLOURS = {
    "gold": "#d4af37",
    "silver": "#a8a9ad",
    "bronze": "#cd7f32",
    "none": "#4c78a8",
    NA: "#ffffff",  # hollow: not measured
}
THRESHOLD_COLOURS = {
    "gold": "#b8860b",
    "silver": "#7d7f84",
    "bronze": "#a0522d",
    "median": "#333333",
}


def _label_rate(mean, sem) -> str:
    if pd.isna(mean):
        return f"{NA} (no competition with known medals)"
    return f"{mean:.1f}" if pd.isna(sem) else f"{mean:.1f} ± {sem:.1f}"


def medal_rate_chart(summary: pd.DataFrame) -> alt.FacetChart:
    """Horizontal bars, one per agent / hardware, a panel per split. Each bar is labelled with
    its value and n; a split with no known medals shows the text n/a instead of a bar."""
    data = summary.assign(
        config=summary["agent"] + " / " + summary["hardware"],
        low=(summary["any_medal_pct"] - summary["any_medal_pct_sem"]).clip(lower=0),
        high=(summary["any_medal_pct"] + summary["any_medal_pct_sem"]).clip(upper=100),
        label=[
            _label_rate(m, s)
            for m, s in zip(summary["any_medal_pct"], summary["any_medal_pct_sem"], strict=True)
        ],
        n=[
            f"n = {k} of {c} competitions × {s} seeds"
            for k, c, s in zip(
                summary["medal_competitions"],
                summary["competitions"],
                summary["seeds"],
                strict=True,
            )
        ],
    )
    # Where the bar ends (or 0 for n/a): the label goes right of it.
    data["label_at"] = data["high"].fillna(data["any_medal_pct"]).fillna(0)
    y = alt.Y("config:N", title=None, axis=alt.Axis(labelLimit=260))
    x = alt.X(
        "any_medal_pct:Q",
        title="any medal, % of competitions with known medals (mean ± SEM over seeds)",
        scale=alt.Scale(domain=[0, 100]),
    )
    tooltip = [
        alt.Tooltip("agent:N"),
        alt.Tooltip("hardware:N"),
        alt.Tooltip("split:N"),
        alt.Tooltip("label:N", title="any medal (%)"),
        alt.Tooltip("n:N", title="n"),
        alt.Tooltip("valid_pct:Q", title="valid submissions (%)", format=".1f"),
    ]
    base = alt.Chart(data)
    bars = (
        base.mark_bar(color="#4c78a8")
        .encode(x=x, y=y, tooltip=tooltip)
        .transform_filter("isValid(datum.any_medal_pct)")
    )
    errors = (
        base.mark_rule(color="#222", strokeWidth=1.5)
        .encode(x="low:Q", x2="high:Q", y=y)
        .transform_filter("isValid(datum.any_medal_pct_sem)")
    )
    labels = base.mark_text(align="left", dx=5, fontSize=11).encode(
        x="label_at:Q", y=y, text="label:N", tooltip=tooltip
    )
    counts = base.mark_text(align="left", dx=5, dy=11, fontSize=9, color="#555").encode(
        x="label_at:Q", y=y, text="n:N"
    )
    return (
        alt.layer(bars, errors, labels, counts)
        .properties(width=360, height=alt.Step(42))
        .facet(row=alt.Row("split:N", title="split", header=alt.Header(labelAngle=0)))
        .properties(title="Any-medal rate per agent and split")
    )


# The cost axes of the medal-rate-vs-cost chart: summary column (a total over the runs), title.
COST_AXES = (
    ("cost_usd", "mean model cost per run (USD, from the gateway)"),
    ("cpu_hours", "mean CPU-hours per run"),
    ("gpu_hours", "mean GPU-hours per run"),
)


def cost_points(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per agent / hardware (split "all") and cost axis where both the any-medal rate
    and that cost are known: the rate with its SEM, and the cost as a mean per run. GPU-hours
    appear only for configurations that used GPUs."""
    rows = []
    if summary.empty:
        return pd.DataFrame(columns=["config", "axis", "cost", "rate", "low", "high", "runs"])
    for r in summary[summary["split"] == "all"].to_dict("records"):
        if pd.isna(r.get("any_medal_pct")) or not r.get("runs"):
            continue
        sem = r.get("any_medal_pct_sem")
        for column, title in COST_AXES:
            total = r.get(column)
            if total is None or pd.isna(total) or (column == "gpu_hours" and total == 0):
                continue
            rows.append({
                "config": f"{r['agent']} / {r['hardware']}", "axis": title,
                "cost": float(total) / r["runs"], "rate": float(r["any_medal_pct"]),
                "low": max(0.0, r["any_medal_pct"] - sem) if pd.notna(sem) else None,
                "high": min(100.0, r["any_medal_pct"] + sem) if pd.notna(sem) else None,
                "runs": int(r["runs"]),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["config", "axis", "cost", "rate", "low", "high", "runs"])


def medal_rate_vs_cost_chart(summary: pd.DataFrame) -> alt.TopLevelMixin:
    """Any-medal rate (mean ± SEM over seeds, split "all") against the mean cost of a run, a
    point per agent / hardware: one panel per cost that was measured (USD from the model
    gateway; CPU-hours; GPU-hours where GPUs were used), so that agents without a gateway are
    placed by their compute."""
    data = cost_points(summary)
    title = "Any-medal rate against cost per run"
    if data.empty:
        note = pd.DataFrame({"text": [f"{NA}: no configuration with known medals and costs"]})
        return (
            alt.Chart(note).mark_text(fontSize=13).encode(text="text:N")
            .properties(width=360, height=60, title=title)
        )  # fmt: skip
    panels = []
    for _, axis in COST_AXES:
        points = data[data["axis"] == axis]
        if points.empty:
            continue
        base = alt.Chart(points)
        x = alt.X("cost:Q", title=axis, scale=alt.Scale(zero=True))
        y = alt.Y(
            "rate:Q", title="any medal, % (mean ± SEM over seeds)",
            scale=alt.Scale(domain=[0, 100]),
        )  # fmt: skip
        tooltip = [
            alt.Tooltip("config:N", title="agent / hardware"),
            alt.Tooltip("rate:Q", title="any medal (%)", format=".1f"),
            alt.Tooltip("cost:Q", title=axis, format=".4g"),
            alt.Tooltip("runs:Q", title="runs"),
        ]
        dots = base.mark_point(filled=True, size=80).encode(
            x=x, y=y, color=alt.Color("config:N", title="agent / hardware"), tooltip=tooltip
        )
        bars = (
            base.mark_rule(strokeWidth=1.5)
            .encode(x=x, y="low:Q", y2="high:Q", color=alt.Color("config:N"))
            .transform_filter("isValid(datum.low)")
        )
        panels.append(alt.layer(bars, dots).properties(width=300, height=260))
    return alt.hconcat(*panels).properties(title=title)


def _competition_panel(runs: pd.DataFrame) -> alt.LayerChart:
    first = runs.iloc[0]
    metric = first.get("metric") or "score"
    better = direction(first.get("is_lower_better"))
    arrow = {"lower is better": " ←", "higher is better": " →"}.get(better, "")
    data = runs.assign(
        run=runs["agent"] + " / " + runs["hardware"],
        medal=runs["medal"].fillna(NA) if "medal" in runs else NA,
        score_text=runs["score"].map(number),
    )
    data = data[data["score"].notna()]
    x_title = f"{metric} ({better}{arrow})"
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=70, opacity=0.85)
        .encode(
            x=alt.X("score:Q", title=x_title, scale=alt.Scale(zero=False)),
            y=alt.Y("run:N", title=None, axis=alt.Axis(labelLimit=260)),
            fill=alt.Fill(
                "medal:N",
                title="medal",
                scale=alt.Scale(domain=list(MEDAL_COLOURS), range=list(MEDAL_COLOURS.values())),
                legend=alt.Legend(symbolStrokeColor="#666666", symbolStrokeWidth=0.8),
            ),
            stroke=alt.value("#666666"),
            strokeWidth=alt.value(0.8),
            tooltip=[
                alt.Tooltip("competition_id:N", title="competition"),
                alt.Tooltip("agent:N"),
                alt.Tooltip("hardware:N"),
                alt.Tooltip("seed:O"),
                alt.Tooltip("score_text:N", title="score"),
                alt.Tooltip("medal:N"),
            ],
        )
    )
    thresholds = pd.DataFrame(
        [{"threshold": name, "value": first.get(f"{name}_threshold")} for name in THRESHOLD_COLOURS]
    ).dropna()
    thresholds["value_text"] = thresholds["value"].map(number)
    invalid = int(runs["score"].isna().sum())
    subtitle = [f"metric {metric}, {better}"]
    if thresholds.empty:
        subtitle.append("no medal thresholds (medals n/a)")
    if invalid:
        subtitle.append(f"{invalid} run(s) without a valid score")
    layers: list[alt.Chart] = [points]
    if not thresholds.empty:
        layers.append(
            alt.Chart(thresholds)
            .mark_rule(strokeDash=[5, 3], strokeWidth=1.5)
            .encode(
                x=alt.X("value:Q"),
                stroke=alt.Stroke(
                    "threshold:N",
                    title="threshold",
                    scale=alt.Scale(
                        domain=list(THRESHOLD_COLOURS), range=list(THRESHOLD_COLOURS.values())
                    ),
                ),
                tooltip=[alt.Tooltip("threshold:N"), alt.Tooltip("value_text:N", title="value")],
            )
        )
    return alt.layer(*layers).properties(
        width=420,
        title=alt.TitleParams(str(first["competition_id"]), subtitle=subtitle, anchor="start"),
    )


def score_chart(table: pd.DataFrame) -> alt.VConcatChart:
    """One panel per competition: each run's score (a point per seed, coloured by medal) with
    the competition's gold/silver/bronze/median thresholds as labelled rules."""
    panels = [_competition_panel(runs) for _, runs in table.groupby("competition_id", sort=True)]
    return alt.vconcat(*panels, spacing=28).properties(
        title="Scores per run against medal thresholds"
    )


def script_safe_json(spec: dict) -> str:
    """JSON that cannot end the <script> element holding it: `<`, `>` and `&` as \\u escapes
    (the same string to JavaScript), and the two line separators that JSON allows but older
    JavaScript does not."""
    text = json.dumps(spec, allow_nan=False)
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def _vl_version() -> str:
    """The Vega-Lite version of Altair's schema, as vl-convert names it ("6.4")."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


@cache
def _embed_bundle() -> str:
    """vega-embed with Vega and Vega-Lite, one script bundled by vl-convert (no network)."""
    bundle = vlc.javascript_bundle(vl_version=_vl_version())
    if "</script" in bundle.lower():  # it could not be inlined as it is
        raise RuntimeError("the vega-embed bundle contains '</script'")
    return bundle


def chart_html(chart: alt.TopLevelMixin, title: str) -> str:
    """A self-contained page: the libraries inline, the spec as script-safe JSON, drawn as SVG;
    a failure to draw is written into the page."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; }}
#chart-error {{ color: #b00020; white-space: pre-wrap; }}
</style>
<script>
{_embed_bundle()}
</script>
</head>
<body>
<div id="chart"></div>
<pre id="chart-error" hidden></pre>
<script>
const spec = {script_safe_json(chart.to_dict())};
vegaEmbed("#chart", spec, {{renderer: "svg", actions: false}}).catch(function (error) {{
  const box = document.getElementById("chart-error");
  box.hidden = false;
  box.textContent = "The chart could not be drawn: " + error;
}});
</script>
</body>
</html>
"""


def write_chart(chart: alt.TopLevelMixin, title: str, html_path=None, svg_path=None) -> None:
    if html_path:
        Path(html_path).write_text(chart_html(chart, title))
    if svg_path:
        Path(svg_path).write_text(vlc.vegalite_to_svg(chart.to_dict(), vl_version=_vl_version()))


def _headline(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the headline grading variant, which the report tables put first."""
    if "grading_variant" not in frame or frame.empty:
        return frame
    return frame[frame["grading_variant"] == frame["grading_variant"].iloc[0]]


def _variant_label(frame: pd.DataFrame) -> str:
    if "grading_variant" not in frame or frame.empty:
        return ""
    return f" (grading variant {frame['grading_variant'].iloc[0]})"


def write_charts(
    summary: pd.DataFrame, table: pd.DataFrame, outputs: Mapping[str, str | Path]
) -> None:
    """Writes `medal_rate_{html,svg}`, `medal_rate_vs_cost_{html,svg}` and `scores_{html,svg}`
    where `outputs` names a path. The charts show the headline grading variant (the tables'
    first rows) only."""
    summary, table, label = _headline(summary), _headline(table), _variant_label(table)
    write_chart(
        medal_rate_chart(summary),
        f"Any-medal rate per agent and split{_variant_label(summary)}",
        outputs.get("medal_rate_html"),
        outputs.get("medal_rate_svg"),
    )
    write_chart(
        medal_rate_vs_cost_chart(summary),
        f"Any-medal rate against cost per run{label}",
        outputs.get("medal_rate_vs_cost_html"),
        outputs.get("medal_rate_vs_cost_svg"),
    )
    write_chart(
        score_chart(table),
        f"Scores per run against medal thresholds{label}",
        outputs.get("scores_html"),
        outputs.get("scores_svg"),
    )
