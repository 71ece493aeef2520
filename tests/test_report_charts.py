"""The report charts: what they show (n, SEM bars, n/a instead of a zero bar, labelled
thresholds, the metric's direction), self-contained HTML that cannot be broken out of, and, in a
real headless Chromium with the network blocked, that the pages draw."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_grades import record, thresholds, write

from mlepipe.grading.report import usage_fields
from mlepipe.reports.charts import (
    chart_html,
    cost_points,
    medal_rate_chart,
    score_chart,
    write_charts,
)
from mlepipe.reports.summary import load_grades, per_competition, summarize

T = thresholds(0.9, 0.8, 0.7, 0.5)
# Set as the title by the page's own script if it ever ran: proof of a break-out.
EVIL = '</script><script>document.title="pwned"</script><script>alert(1)</script>'
SVG = "{http://www.w3.org/2000/svg}"


def grades(tmp_path, evil=False):
    records = [
        record("spaceship-titanic", 0.91234, T, seed=0, splits=("low",)),
        record("spaceship-titanic", 0.6, T, seed=1, splits=("low",)),
        record("practice-diabetes", 58.5183, seed=0),
        record("practice-diabetes", None, seed=1, status="crashed", reason=EVIL),
        record("practice-diabetes", 60.1, seed=0, agent="agent-b"),
    ]
    frame = load_grades(write(records, tmp_path / "results"))
    if evil:  # ids as a hostile grade file could carry them
        frame["agent"] = frame["agent"].replace("agent-b", "agent-b" + EVIL)
        frame["competition_id"] = frame["competition_id"].replace(
            "practice-diabetes", "practice-diabetes" + EVIL
        )
    return summarize(frame), per_competition(frame)


def charts(tmp_path, evil=False) -> dict[str, Path]:
    summary, table = grades(tmp_path, evil)
    out = tmp_path / "charts"
    out.mkdir()
    paths = {
        f"{c}_{f}": out / f"{c}.{f}"
        for c in ("medal_rate", "medal_rate_vs_cost", "scores")
        for f in ("html", "svg")
    }
    write_charts(summary, table, paths)
    return paths


def svg_texts(path) -> list[str]:
    """Each line of text in an SVG (a multi-line text is one tspan per line)."""
    root = ET.parse(path).getroot()  # also: the SVG is well-formed XML
    out = []
    for t in root.iter(f"{SVG}text"):
        spans = list(t.iter(f"{SVG}tspan"))
        out += ["".join(s.itertext()) for s in spans] if spans else ["".join(t.itertext())]
    return out


def marks(path, kind: str) -> int:
    """Data marks of a kind (rect, symbol, rule, ...) in a vl-convert SVG; axis grid lines and
    legend symbols have other roles."""
    root = ET.parse(path).getroot()
    return sum(
        len(list(g))
        for g in root.iter(f"{SVG}g")
        if {f"mark-{kind}", "role-mark"} <= set((g.get("class") or "").split())
    )


def test_medal_rate_chart_shows_n_sem_and_na(tmp_path):
    summary, _ = grades(tmp_path)
    paths = charts(tmp_path)
    texts = svg_texts(paths["medal_rate_svg"])
    # Known: agent-a (low, split75, all); unknown: agent-a practice, agent-b practice and all.
    known = summary["any_medal_pct"].notna()
    assert known.sum() == 3 and (~known).sum() == 3
    assert marks(paths["medal_rate_svg"], "rect") == known.sum()  # no zero-height bars
    assert marks(paths["medal_rate_svg"], "rule") == known.sum()  # one SEM bar per bar
    assert texts.count("50.0 ± 50.0") == 3
    assert sum(t.startswith("n/a") for t in texts) == 3
    assert "n = 1 of 1 competitions × 2 seeds" in texts
    # agent-b's missing seed is padded as a failure (missing_seeds: pad): it has 2 seeds too.
    assert "n = 0 of 1 competitions × 2 seeds" in texts


def test_medal_rate_vs_cost_places_each_config_by_its_mean_cost(tmp_path):
    records = [
        record("spaceship-titanic", s, T, seed=seed, agent=agent, splits=("low",))
        for agent, scores in (("llm-agent", (0.95, 0.6)), ("classic", (0.6, 0.6)))
        for seed, s in enumerate(scores)
    ]
    for r in records:
        llm = r["agent"] == "llm-agent"
        r.update(cpu_seconds=1800.0 if llm else 3600.0, gpu_hours=0.0)
        # Only the LLM agent has a gateway: 0.25 + 0.75 USD over its two runs.
        cost = {"requests": 3, "prompt_tokens": 900, "completion_tokens": 90,
                "cost_usd": (0.25, 0.75)[r["seed"]]}  # fmt: skip
        r.update(usage_fields(cost if llm else None))
    frame = load_grades(write(records, tmp_path / "results"))
    summary = summarize(frame)
    points = cost_points(summary)
    usd = points[points["axis"].str.contains("USD")]
    assert list(usd["config"]) == ["llm-agent / cpu-small"]
    assert usd.iloc[0]["cost"] == pytest.approx(0.5) and usd.iloc[0]["rate"] == 50.0
    assert (usd.iloc[0]["low"], usd.iloc[0]["high"]) == (0.0, 100.0)  # 50 ± 50
    cpu = points[points["axis"].str.contains("CPU")].set_index("config")
    assert cpu.loc["classic / cpu-small", "cost"] == pytest.approx(1.0)  # hours per run
    assert cpu.loc["llm-agent / cpu-small", "cost"] == pytest.approx(0.5)
    assert cpu.loc["classic / cpu-small", "rate"] == 0.0
    assert not points["axis"].str.contains("GPU").any()  # no GPU used: no GPU panel
    out = {
        "medal_rate_vs_cost_svg": tmp_path / "c.svg",
        "medal_rate_vs_cost_html": tmp_path / "c.html",
    }
    write_charts(summary, per_competition(frame), out)
    texts = svg_texts(out["medal_rate_vs_cost_svg"])
    assert "mean model cost per run (USD, from the gateway)" in texts
    assert "mean CPU-hours per run" in texts and "mean GPU-hours per run" not in texts
    assert marks(out["medal_rate_vs_cost_svg"], "symbol") == 3  # 1 USD point + 2 CPU points
    assert marks(out["medal_rate_vs_cost_svg"], "rule") == 3  # an SEM bar per point (0 ± 0 too)
    assert "NaN" not in out["medal_rate_vs_cost_html"].read_text().split("const spec")[1]


def test_medal_rate_vs_cost_without_known_medals_says_so(tmp_path):
    summary, table = grades(tmp_path)
    practice = summary[summary["agent"] == "agent-b"]
    svg = tmp_path / "c.svg"
    write_charts(practice, table, {"medal_rate_vs_cost_svg": svg})
    assert "n/a: no configuration with known medals and costs" in svg_texts(svg)


def test_score_chart_labels_thresholds_and_direction(tmp_path):
    paths = charts(tmp_path)
    texts = svg_texts(paths["scores_svg"])
    assert "accuracy (higher is better →)" in texts
    assert "rmse (lower is better ←)" in texts
    assert {"threshold", "gold", "silver", "bronze", "median", "medal", "n/a"} <= set(texts)
    assert "no medal thresholds (medals n/a)" in texts
    assert "1 run(s) without a valid score" in texts
    assert marks(paths["scores_svg"], "rule") == 4  # spaceship-titanic's thresholds only
    assert marks(paths["scores_svg"], "symbol") == 4  # the valid scores


class Tags(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags, self.srcs = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.srcs += [v for k, v in attrs if k in ("src", "href") and v]


def test_chart_html_is_self_contained_and_cannot_be_broken_out_of(tmp_path):
    paths = charts(tmp_path, evil=True)
    for name in ("medal_rate_html", "medal_rate_vs_cost_html", "scores_html"):
        text = paths[name].read_text()
        page = Tags(text)
        assert page.tags.count("script") == 2, name  # the libraries and the spec, no more
        assert page.srcs == [], name  # nothing fetched
        assert "vegaEmbed(" in text and "</script><script>" not in text.split("const spec")[1]
    for name in ("medal_rate_svg", "scores_svg"):
        root = ET.parse(paths[name]).getroot()
        assert not list(root.iter(f"{SVG}script")), name
        # The hostile text is there, as text (labels may be cut short with an ellipsis).
        assert any("</script><script>" in t for t in svg_texts(paths[name])), name


def test_nan_never_reaches_the_spec(tmp_path):
    summary, _ = grades(tmp_path)
    # JSON has no NaN: the page builder refuses it, so unknowns must arrive as null.
    html = chart_html(medal_rate_chart(summary), "t")
    assert "NaN" not in html.split("const spec")[1]
    assert score_chart(grades(tmp_path / "x")[1]).to_dict()


# --- a real browser ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(tmp_path, page) -> str:
    """The page's DOM after its scripts ran, in headless Chromium with no network: every
    request goes to a closed local port and no host name resolves."""
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=20000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        # What an injected alert() does: headless Chromium waits on the dialog for ever.
        pytest.fail(f"Chromium did not finish {page.name}: a dialog opened, or the page hung")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def drawn(dom: str) -> bool:
    """vega-embed filled its container with an SVG holding marks, and reported no error."""
    match = re.search(r'<div id="chart" class="vega-embed[^"]*"[^>]*>(.*?)</div>', dom, re.S)
    if not match:
        return False
    chart = match.group(1)
    error = re.search(r'<pre id="chart-error"([^>]*)>(.*?)</pre>', dom, re.S)
    return (
        "<svg" in chart
        and len(re.findall(r'class="mark-\w+ role-mark', chart)) > 0
        and chart.count("<path") > 0
        and error is not None
        and "hidden" in error.group(1)
        and error.group(2) == ""
    )


@pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)")
def test_charts_draw_offline_in_chromium(tmp_path):
    paths = charts(tmp_path, evil=True)
    for name in ("medal_rate_html", "medal_rate_vs_cost_html", "scores_html"):
        dom = dump_dom(tmp_path, paths[name])
        assert drawn(dom), (name, dom[-3000:])
        title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
        assert title != "pwned" and "pwned" not in title, name
        assert "<script>alert(1)</script>" not in dom  # only the escaped form is in the page
    # The check can fail: the same page with the libraries from a CDN instead of inline
    # reaches no server here, so nothing is drawn.
    summary, _ = grades(tmp_path / "cdn")
    text = chart_html(medal_rate_chart(summary), "cdn")
    start, end = text.index("<script>"), text.index("</script>") + len("</script>")
    cdn = "".join(
        f'<script src="https://cdn.jsdelivr.net/npm/{lib}"></script>'
        for lib in ("vega@6", "vega-lite@6.4.1", "vega-embed@7")
    )
    cdn_page = tmp_path / "cdn.html"
    cdn_page.write_text(text[:start] + cdn + text[end:])
    assert not drawn(dump_dom(tmp_path, cdn_page))
