"""The report tables: CSV and Parquet for machines (numbers, NaN where unknown), HTML and
Markdown for reading (headers in words, rates as one `mean ± SEM` cell, `n/a` where unknown).

Every cell is text chosen here and escaped on output: invalid reasons and ids can come from an
agent's submission.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlepipe.grading.variants import MLEBENCH, VARIANTS
from mlepipe.reports.stats import Bootstrap
from mlepipe.reports.summary import (
    compare_agents,
    headline_variant,
    load_grades,
    per_competition,
    per_variant,
    summarize,
)

NA = "n/a"

MISSING_NOTES = {
    "pad": "Missing runs (an expected competition x seed without a grade) count as failed runs "
    "(missing_seeds: pad, as MLE-bench's --pad-missing).",
    "drop": "Missing runs (an expected competition x seed without a grade) are left out "
    "(missing_seeds: drop): a seed's rate is over the competitions it has, pass@k over the runs "
    "that exist (n/a where a competition has fewer than k).",
}


def variant_note(headline: str) -> str:
    return (
        f"Headline grading variant: {headline} (its rows come first). Each row is graded in "
        "the variant its first column names: mlebench gives MLE-bench 783b15a's verdicts, bugs "
        "included; corrected is ours (the rules in which they differ: docs/grading-variants.md). "
    )


def statistics_note(missing_seeds: str, bootstrap: Bootstrap) -> str:
    """How the figures were computed: the choice for missing runs and the bootstrap."""
    return (
        f"{MISSING_NOTES[missing_seeds]} Expected runs: each competition an agent and hardware "
        "config has grades for, with every seed of the experiment. Interval: bootstrap "
        f"percentile interval at {bootstrap.level:.0%}, {bootstrap.resamples} resamples of the "
        f"competitions and of the seeds within each (RNG seed {bootstrap.seed})."
    )


def summary_note(missing_seeds: str, bootstrap: Bootstrap) -> str:
    return (
        "Rates in percent, mean ± standard error over seeds. Medal rates and pass@k (unbiased "
        "estimator, k = 1 .. seeds) count only the competitions with known medal thresholds "
        "(column 'With known medals'); n/a where there is none. Valid submissions count every "
        "competition. Tokens and cost: all runs of the row through the model gateway, as the "
        "provider reported them; cost n/a where a model has no price. "
        + statistics_note(missing_seeds, bootstrap)
    )


def category_note(missing_seeds: str, bootstrap: Bootstrap) -> str:
    return (
        "Per MLE-bench competition category (the definition's mlebench_category; 'none given' "
        "where MLE-bench's category is not recorded). Rates as in the summary. "
        + statistics_note(missing_seeds, bootstrap)
    )


def comparison_note(agent_a: str, agent_b: str, bootstrap: Bootstrap, missing: str) -> str:
    return (
        f"{agent_a} against {agent_b} on the same hardware config and on the competitions with "
        "known medals that both have runs of. Per competition, each agent's any-medal rate over "
        f"its seeds; difference = {agent_a} - {agent_b} in percentage points. Wins / losses / "
        "ties: competitions where the difference is positive / negative / zero. Sign test: "
        "two-sided exact binomial over the competitions whose difference is not zero (n/a when "
        "there is none). " + statistics_note(missing, bootstrap)
    )


PER_COMPETITION_NOTE = (
    "Every graded run. Scores as graded (rounded to 5 decimals), thresholds as the leaderboard "
    "gives them. Medal n/a: no medal thresholds for that competition. Tokens and cost n/a: the "
    "agent has no model gateway (or, for the cost, its model no price)."
)


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Mapping], str]
    numeric: bool = False


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def text(value) -> str:
    return NA if _missing(value) else str(value)


def optional_text(value) -> str:
    return "" if _missing(value) else str(value)


def count(value) -> str:
    return NA if _missing(value) else str(int(value))


def number(value) -> str:
    """A number with exactly the digits it was stored with (Python's shortest repr), so a score
    graded to 5 decimals reads as graded."""
    return NA if _missing(value) else repr(float(value))


def usd(value) -> str:
    return NA if _missing(value) else f"{float(value):.6f}"


def interval(low, high) -> str:
    return NA if _missing(low) or _missing(high) else f"{low:.1f} – {high:.1f}"


def p_value(value) -> str:
    return NA if _missing(value) else f"{float(value):.4g}"


def rate(mean, sem=None) -> str:
    if _missing(mean):
        return NA
    return f"{mean:.1f}" if _missing(sem) else f"{mean:.1f} ± {sem:.1f}"


def yes_no(value) -> str:
    return NA if _missing(value) else ("yes" if value else "no")


def direction(is_lower_better) -> str:
    if _missing(is_lower_better):
        return NA
    return "lower is better" if is_lower_better else "higher is better"


def _rate_column(header: str, name: str) -> Column:
    return Column(header, lambda r: rate(r.get(name), r.get(name + "_sem")), numeric=True)


def pass_columns(frame: pd.DataFrame) -> list[str]:
    found = [c for c in frame.columns if re.fullmatch(r"pass@\d+_pct", c)]
    return sorted(found, key=lambda c: int(c[5:-4]))


def _ci_column(frame: pd.DataFrame) -> Column:
    level = frame["ci_level"].iloc[0] if "ci_level" in frame and len(frame) else 0.95
    return Column(
        f"Any medal, {level:.0%} CI (%)",
        lambda r: interval(r.get("any_medal_ci_low"), r.get("any_medal_ci_high")),
        numeric=True,
    )


def _pass_columns(frame: pd.DataFrame) -> list[Column]:
    return [
        Column(f"pass@{name[5:-4]} (%)", lambda r, n=name: rate(r.get(n)), numeric=True)
        for name in pass_columns(frame)
    ]


def summary_columns(summary: pd.DataFrame) -> list[Column]:
    cols = [
        Column("Grading variant", lambda r: text(r.get("grading_variant"))),
        Column("Agent", lambda r: text(r.get("agent"))),
        Column("Hardware", lambda r: text(r.get("hardware"))),
        Column("Split", lambda r: text(r.get("split"))),
        Column("Competitions", lambda r: count(r.get("competitions")), numeric=True),
        Column("With known medals", lambda r: count(r.get("medal_competitions")), numeric=True),
        Column("Seeds", lambda r: count(r.get("seeds")), numeric=True),
        Column("Missing runs", lambda r: count(r.get("missing_runs")), numeric=True),
        _rate_column("Any medal (%)", "any_medal_pct"),
        _ci_column(summary),
        _rate_column("Gold (%)", "gold_pct"),
        _rate_column("Silver (%)", "silver_pct"),
        _rate_column("Bronze (%)", "bronze_pct"),
        _rate_column("Above median (%)", "above_median_pct"),
        _rate_column("Valid submissions (%)", "valid_pct"),
        Column("Sandboxed runs (%)", lambda r: rate(r.get("sandboxed_pct")), numeric=True),
        Column("Model requests", lambda r: count(r.get("model_requests")), numeric=True),
        Column("Prompt tokens", lambda r: count(r.get("prompt_tokens")), numeric=True),
        Column("Completion tokens", lambda r: count(r.get("completion_tokens")), numeric=True),
        Column("Cost (USD)", lambda r: usd(r.get("cost_usd")), numeric=True),
        Column("Cost per run (USD)", lambda r: usd(r.get("cost_per_run_usd")), numeric=True),
        Column("CPU-hours", lambda r: number(r.get("cpu_hours")), numeric=True),
        Column("GPU-hours", lambda r: number(r.get("gpu_hours")), numeric=True),
        Column(
            "Largest disk use (MB)", lambda r: number(r.get("disk_used_peak_mb_max")), numeric=True
        ),
        Column("Disk written (MB)", lambda r: number(r.get("disk_written_mb")), numeric=True),
    ]
    return cols + _pass_columns(summary)


def category_columns(table: pd.DataFrame) -> list[Column]:
    return [
        Column("Grading variant", lambda r: text(r.get("grading_variant"))),
        Column("Agent", lambda r: text(r.get("agent"))),
        Column("Hardware", lambda r: text(r.get("hardware"))),
        Column("MLE-bench category", lambda r: text(r.get("category"))),
        Column("Competitions", lambda r: count(r.get("competitions")), numeric=True),
        Column("With known medals", lambda r: count(r.get("medal_competitions")), numeric=True),
        Column("Seeds", lambda r: count(r.get("seeds")), numeric=True),
        Column("Missing runs", lambda r: count(r.get("missing_runs")), numeric=True),
        _rate_column("Any medal (%)", "any_medal_pct"),
        _ci_column(table),
        _rate_column("Valid submissions (%)", "valid_pct"),
        *_pass_columns(table),
    ]


def comparison_columns(table: pd.DataFrame) -> list[Column]:
    level = table["ci_level"].iloc[0] if "ci_level" in table and len(table) else 0.95
    return [
        Column("Hardware", lambda r: text(r.get("hardware"))),
        Column("Split", lambda r: text(r.get("split"))),
        Column("Competitions", lambda r: count(r.get("competitions")), numeric=True),
        Column(f"{text(table['agent_a'].iloc[0]) if len(table) else 'A'} any medal (%)",
               lambda r: rate(r.get("rate_a_pct")), numeric=True),
        Column(f"{text(table['agent_b'].iloc[0]) if len(table) else 'B'} any medal (%)",
               lambda r: rate(r.get("rate_b_pct")), numeric=True),
        Column("Mean difference (points)", lambda r: rate(r.get("mean_difference_pct")),
               numeric=True),
        Column(f"{level:.0%} CI (points)",
               lambda r: interval(r.get("ci_low_pct"), r.get("ci_high_pct")), numeric=True),
        Column("Wins", lambda r: count(r.get("wins")), numeric=True),
        Column("Losses", lambda r: count(r.get("losses")), numeric=True),
        Column("Ties", lambda r: count(r.get("ties")), numeric=True),
        Column("Sign test p", lambda r: p_value(r.get("sign_test_p")), numeric=True),
    ]  # fmt: skip


def difference_columns(agent_a: str, agent_b: str) -> list[Column]:
    return [
        Column("Hardware", lambda r: text(r.get("hardware"))),
        Column("Competition", lambda r: text(r.get("competition_id"))),
        Column(f"{agent_a} any medal (%)", lambda r: rate(r.get("rate_a_pct")), numeric=True),
        Column(f"{agent_b} any medal (%)", lambda r: rate(r.get("rate_b_pct")), numeric=True),
        Column("Difference (points)", lambda r: rate(r.get("difference_pct")), numeric=True),
    ]


def per_competition_columns() -> list[Column]:
    def threshold(name: str) -> Column:
        key = f"{name}_threshold"
        return Column(f"{name.capitalize()} threshold", lambda r: number(r.get(key)), numeric=True)

    return [
        Column("Competition", lambda r: text(r.get("competition_id"))),
        Column("Metric", lambda r: text(r.get("metric"))),
        Column("Direction", lambda r: direction(r.get("is_lower_better"))),
        Column("Agent", lambda r: text(r.get("agent"))),
        Column("Hardware", lambda r: text(r.get("hardware"))),
        Column("Seed", lambda r: count(r.get("seed")), numeric=True),
        Column("Score", lambda r: number(r.get("score")), numeric=True),
        threshold("gold"),
        threshold("silver"),
        threshold("bronze"),
        threshold("median"),
        Column("Medal", lambda r: text(r.get("medal"))),
        Column("Valid submission", lambda r: yes_no(r.get("valid_submission"))),
        Column("Run status", lambda r: text(r.get("run_status"))),
        Column("Sandboxed", lambda r: yes_no(r.get("sandboxed"))),
        Column("Prompt tokens", lambda r: count(r.get("prompt_tokens")), numeric=True),
        Column("Completion tokens", lambda r: count(r.get("completion_tokens")), numeric=True),
        Column("Cost (USD)", lambda r: usd(r.get("cost_usd")), numeric=True),
        Column("Budget exhausted", lambda r: yes_no(r.get("budget_exhausted"))),
        Column("Wall (s)", lambda r: number(r.get("wall_seconds")), numeric=True),
        Column("CPU (s)", lambda r: number(r.get("cpu_seconds")), numeric=True),
        Column("Peak memory (MB)", lambda r: number(r.get("peak_memory_mb")), numeric=True),
        Column("GPU-hours", lambda r: number(r.get("gpu_hours")), numeric=True),
        Column("Disk peak (MB)", lambda r: number(r.get("disk_used_peak_mb")), numeric=True),
        Column("Disk written (MB)", lambda r: number(r.get("disk_written_mb")), numeric=True),
        Column("Invalid reason", lambda r: optional_text(r.get("invalid_reason"))),
        Column("Headline grading variant", lambda r: text(r.get("grading_variant"))),
        *[
            Column(label, lambda r, k=f"{v}_{key}", f=fmt: f(r.get(k)), numeric=numeric)
            for v in VARIANTS
            for label, key, fmt, numeric in (
                (f"Score ({v})", "score", number, True),
                (f"Medal ({v})", "medal", text, False),
                (f"Valid ({v})", "valid_submission", yes_no, False),
            )
        ],
    ]


def cells(frame: pd.DataFrame, columns: list[Column]) -> list[list[str]]:
    return [[c.cell(rec) for c in columns] for rec in frame.to_dict("records")]


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; margin: 0 0 0.4rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.4rem; }
p.note { max-width: 60rem; color: #444; margin: 0 0 1rem; }
table { border-collapse: collapse; font-size: 0.88rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
td { vertical-align: top; white-space: nowrap; }
th { background: #f2f2f2; position: sticky; top: 0; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.na { color: #888; }
tbody tr:nth-child(even) { background: #fafafa; }
td.long { max-width: 36rem; overflow-wrap: anywhere; white-space: normal; }
"""


# One table of a page: heading (None for a page's only table), note, columns, rows.
Section = tuple[str | None, str, list[Column], list[list[str]]]


def _html_section(heading: str | None, note: str, columns: list[Column], rows) -> str:
    e = html.escape

    def attrs(col: Column, value: str | None = None) -> str:
        classes = ["num"] if col.numeric else []
        if value == NA:
            classes.append("na")
        if value is not None and not col.numeric and len(value) > 60:
            classes.append("long")
        return f' class="{" ".join(classes)}"' if classes else ""

    head = "".join(f'<th scope="col"{attrs(c)}>{e(c.header)}</th>' for c in columns)
    body = "\n".join(
        "<tr>"
        + "".join(f"<td{attrs(c, v)}>{e(v)}</td>" for c, v in zip(columns, row, strict=True))
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(columns)}">no rows</td></tr>'
    return (
        (f"<h2>{e(heading)}</h2>\n" if heading else "")
        + f'<p class="note">{e(note)}</p>\n'
        + f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
    )


def html_page(title: str, sections: list[Section]) -> str:
    """A small self-contained HTML page holding one or more tables."""
    e = html.escape
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n"
        + "".join(_html_section(*section) for section in sections)
        + "</body>\n</html>\n"
    )


def html_table(title: str, note: str, columns: list[Column], rows: list[list[str]]) -> str:
    """A small self-contained HTML page holding one table."""
    return html_page(title, [(None, note, columns, rows)])


def md_cell(value: str) -> str:
    # Markdown viewers render inline HTML: escape it, and keep each cell on its row.
    value = html.escape(value, quote=False)
    return re.sub(r"\s+", " ", value.replace("\\", "\\\\").replace("|", "\\|")).strip()


def markdown_table(title: str, note: str, columns: list[Column], rows: list[list[str]]) -> str:
    lines = [f"## {title}", "", note, ""]
    if not rows:
        return "\n".join(lines + ["_no rows_", ""])
    lines.append("| " + " | ".join(md_cell(c.header) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _readable_order(table: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("competition_id", "agent", "hardware", "seed") if c in table]
    if "grading_variant" in table:
        # The headline's rows first, as the table holds them.
        order = {v: i for i, v in enumerate(dict.fromkeys(table["grading_variant"]))}
        table = table.assign(_variant=table["grading_variant"].map(order))
        keys = ["_variant", *keys]
        return table.sort_values(keys, kind="stable").drop(columns="_variant")
    return table.sort_values(keys, kind="stable") if keys else table


def _write_views(name: str, frame: pd.DataFrame, title: str, sections, outputs) -> None:
    """`<name>_{csv,parquet,md,html}` where `outputs` names a path: the numbers of `frame`, and
    the sections as Markdown and one HTML page."""
    path = outputs.get
    if path(f"{name}_csv"):
        frame.to_csv(path(f"{name}_csv"), index=False)
    if path(f"{name}_parquet"):
        frame.to_parquet(path(f"{name}_parquet"), index=False)
    if path(f"{name}_md"):
        md = [markdown_table(heading or title, note, cols, rows) for heading, note, cols, rows
              in sections]  # fmt: skip
        Path(path(f"{name}_md")).write_text("\n".join(md))
    if path(f"{name}_html"):
        Path(path(f"{name}_html")).write_text(html_page(title, sections))


def write_tables(
    grades: pd.DataFrame,
    outputs: Mapping[str, str | Path],
    excluded: Iterable[tuple[str, str]] = (),
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
) -> dict[str, pd.DataFrame]:
    """Writes `{per_competition,summary,by_category}_{csv,parquet,md,html}` and `excluded` where
    `outputs` names a path for them; returns the three tables."""
    bootstrap = bootstrap or Bootstrap()
    stats = {"missing_seeds": missing_seeds, "bootstrap": bootstrap}
    # Every table holds both grading variants, the headline's rows first.
    headline = headline_variant(grades) if not grades.empty else MLEBENCH
    tables = {
        "per_competition": per_competition(grades),
        "summary": per_variant(grades, lambda g: summarize(g, **stats)),
        "by_category": per_variant(grades, lambda g: summarize(g, by="category", **stats)),
    }
    views = {
        "per_competition": (
            "Scores per competition",
            variant_note(headline) + PER_COMPETITION_NOTE,
            per_competition_columns(),
            _readable_order(tables["per_competition"]),
        ),
        "summary": (
            "Summary per agent, hardware and split",
            variant_note(headline) + summary_note(missing_seeds, bootstrap),
            summary_columns(tables["summary"]),
            tables["summary"],
        ),
        "by_category": (
            "Summary per agent, hardware and MLE-bench category",
            variant_note(headline) + category_note(missing_seeds, bootstrap),
            category_columns(tables["by_category"]),
            tables["by_category"],
        ),
    }
    for name, frame in tables.items():
        title, note, columns, shown = views[name]
        _write_views(name, frame, title, [(None, note, columns, cells(shown, columns))], outputs)
    if "excluded" in outputs:
        pd.DataFrame(list(excluded), columns=["competition_id", "reason"]).to_csv(
            outputs["excluded"], index=False
        )
    return tables


def comparison_sections(
    grades: pd.DataFrame,
    agent_a: str,
    agent_b: str,
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Section]]:
    """The paired comparison of two agents: its two tables, and their readable sections."""
    bootstrap = bootstrap or Bootstrap()
    table, differences = compare_agents(grades, agent_a, agent_b, missing_seeds, bootstrap)
    sections: list[Section] = [
        (
            None,
            comparison_note(agent_a, agent_b, bootstrap, missing_seeds),
            comparison_columns(table),
            cells(table, comparison_columns(table)),
        ),
        (
            "Per competition (split all)",
            f"Each competition's any-medal rate over seeds; difference = {agent_a} - {agent_b}.",
            difference_columns(agent_a, agent_b),
            cells(differences, difference_columns(agent_a, agent_b)),
        ),
    ]
    return table, differences, sections


def write_comparison(
    grades: pd.DataFrame,
    agent_a: str,
    agent_b: str,
    outputs: Mapping[str, str | Path],
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
) -> pd.DataFrame:
    """Writes `compare_{csv,md,html}` (and `differences_csv`) where `outputs` names a path."""
    table, differences, sections = comparison_sections(
        grades, agent_a, agent_b, missing_seeds, bootstrap
    )
    _write_views("compare", table, f"{agent_a} against {agent_b}", sections, outputs)
    if outputs.get("differences_csv"):
        differences.to_csv(outputs["differences_csv"], index=False)
    return table


def write_tables_from_files(
    grade_paths: Iterable[str | Path],
    outputs: Mapping[str, str | Path],
    excluded: Iterable[tuple[str, str]] = (),
    missing_seeds: str = "pad",
    bootstrap: Bootstrap | None = None,
) -> dict[str, pd.DataFrame]:
    grades = load_grades([Path(p) for p in grade_paths])
    return write_tables(grades, outputs, excluded, missing_seeds, bootstrap)
