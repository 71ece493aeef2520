from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/agents.smk"
include: "rules/grading.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report_tables.output,
        rules.report_charts.output,
        rules.report_anytime.output,
        rules.export_leaderboard.output,
        expand(
            rules.report_compare.output.compare_html,
            zip,
            agent_a=[a for a, _ in config["compare"]],
            agent_b=[b for _, b in config["compare"]],
        ),
        expand(rules.competition_table.output.table, competition=COMPETITIONS),


# Under Slurm: no job of an earlier invocation is left running beside this one's.
onstart:
    settle_earlier_slurm_jobs()


# A few lines at the end of a run: where the reports are, medal rates, failed runs and their logs.
onsuccess:
    from mlepipe.reports.summary import print_run_summary

    print_run_summary(RESULTS)


onerror:
    from mlepipe.reports.summary import print_run_summary

    print_run_summary(RESULTS, log=log, failed=True)
