rule report_tables:
    """Per-competition and summary tables (mean +/- SEM over seeds, pass@k) from grades alone."""
    input:
        grades=all_grades(),
    output:
        per_competition_csv=REPORTS / "per_competition.csv",
        per_competition_parquet=REPORTS / "per_competition.parquet",
        per_competition_md=REPORTS / "per_competition.md",
        per_competition_html=report(
            REPORTS / "per_competition.html",
            caption="../report/per_competition.rst",
            category="Tables",
            labels={"table": "per competition"},
        ),
        summary_csv=REPORTS / "summary.csv",
        summary_parquet=REPORTS / "summary.parquet",
        summary_md=REPORTS / "summary.md",
        summary_html=report(
            REPORTS / "summary.html",
            caption="../report/summary.rst",
            category="Tables",
            labels={"table": "summary"},
        ),
        by_category_csv=REPORTS / "by_category.csv",
        by_category_md=REPORTS / "by_category.md",
        by_category_html=report(
            REPORTS / "by_category.html",
            caption="../report/by_category.rst",
            category="Tables",
            labels={"table": "by MLE-bench category"},
        ),
        excluded=REPORTS / "excluded_competitions.csv",
    log:
        RESULTS / "logs" / "reports" / "tables.log",
    localrule: True
    params:
        excluded=EXCLUDED,
        settings=REPORT_SETTINGS,
        code=REPORT_CODE["tables"],
    script:
        "../scripts/report_tables.py"


rule report_charts:
    """Altair charts: medal rate by agent and split, medal rate against cost per run, and each
    competition's scores."""
    input:
        summary=REPORTS / "summary.parquet",
        per_competition=REPORTS / "per_competition.parquet",
    output:
        medal_rate_html=report(
            REPORTS / "medal_rate.html",
            caption="../report/medal_rate.rst",
            category="Charts",
            labels={"chart": "medal rate", "format": "html"},
        ),
        medal_rate_svg=report(
            REPORTS / "medal_rate.svg",
            caption="../report/medal_rate.rst",
            category="Charts",
            labels={"chart": "medal rate", "format": "svg"},
        ),
        medal_rate_vs_cost_html=report(
            REPORTS / "medal_rate_vs_cost.html",
            caption="../report/medal_rate_vs_cost.rst",
            category="Charts",
            labels={"chart": "medal rate vs cost", "format": "html"},
        ),
        medal_rate_vs_cost_svg=report(
            REPORTS / "medal_rate_vs_cost.svg",
            caption="../report/medal_rate_vs_cost.rst",
            category="Charts",
            labels={"chart": "medal rate vs cost", "format": "svg"},
        ),
        scores_html=report(
            REPORTS / "scores.html",
            caption="../report/scores.rst",
            category="Charts",
            labels={"chart": "scores", "format": "html"},
        ),
        scores_svg=report(
            REPORTS / "scores.svg",
            caption="../report/scores.rst",
            category="Charts",
            labels={"chart": "scores", "format": "svg"},
        ),
    log:
        RESULTS / "logs" / "reports" / "charts.log",
    localrule: True
    params:
        code=REPORT_CODE["charts"],
    script:
        "../scripts/report_charts.py"


rule report_anytime:
    """Anytime results from the grades' submission timelines: the any-medal rate at elapsed time
    T (config `medal_at_time`), and each competition's best score so far."""
    input:
        grades=all_grades(),
    output:
        medal_at_time_csv=REPORTS / "medal_at_time.csv",
        medal_at_time_md=REPORTS / "medal_at_time.md",
        medal_at_time_html=report(
            REPORTS / "medal_at_time.html",
            caption="../report/medal_at_time.rst",
            category="Tables",
            labels={"table": "medal rate at time T"},
        ),
        best_so_far_csv=REPORTS / "best_so_far.csv",
        best_so_far_html=report(
            REPORTS / "best_so_far.html",
            caption="../report/best_so_far.rst",
            category="Charts",
            labels={"chart": "best score so far", "format": "html"},
        ),
        best_so_far_svg=report(
            REPORTS / "best_so_far.svg",
            caption="../report/best_so_far.rst",
            category="Charts",
            labels={"chart": "best score so far", "format": "svg"},
        ),
    log:
        RESULTS / "logs" / "reports" / "anytime.log",
    localrule: True
    params:
        grid=config["medal_at_time"],
        hardware=HARDWARE_LIMITS,
        settings=REPORT_SETTINGS,
        code=REPORT_CODE["anytime"],
    script:
        "../scripts/report_anytime.py"


rule report_compare:
    """Paired comparison of two agents (config `compare`): per-competition differences, mean
    difference with a paired bootstrap interval, sign test."""
    input:
        grades=all_grades(),
    output:
        compare_csv=REPORTS / "compare" / "{agent_a}_vs_{agent_b}.csv",
        differences_csv=REPORTS
        / "compare"
        / "{agent_a}_vs_{agent_b}_per_competition.csv",
        compare_md=REPORTS / "compare" / "{agent_a}_vs_{agent_b}.md",
        compare_html=report(
            REPORTS / "compare" / "{agent_a}_vs_{agent_b}.html",
            caption="../report/compare.rst",
            category="Comparisons",
            labels={"pair": "{agent_a} vs {agent_b}"},
        ),
    log:
        RESULTS / "logs" / "reports" / "compare" / "{agent_a}_vs_{agent_b}.log",
    localrule: True
    params:
        settings=REPORT_SETTINGS,
        code=REPORT_CODE["tables"],
    script:
        "../scripts/report_compare.py"


rule export_leaderboard:
    """MLE-bench's leaderboard material: grading reports in its runs/<run group>/ layout and the
    README's table (Low / Medium / High / All)."""
    input:
        grades=all_grades(),
    output:
        runs=directory(REPORTS / "leaderboard" / "runs"),
        table=REPORTS / "leaderboard" / "leaderboard.md",
    log:
        RESULTS / "logs" / "reports" / "leaderboard.log",
    localrule: True
    params:
        missing_seeds=config["missing_seeds"],
        hardware=HARDWARE_LIMITS,
        code=REPORT_CODE["leaderboard"],
    script:
        "../scripts/report_leaderboard.py"
