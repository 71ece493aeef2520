rule grade_run:
    """Grade one run against the private answers; medals from the leaderboard source. A changed
    leaderboard or grader, or another headline grading variant, regrades without rerunning
    agents; the grade holds both variants either way."""
    input:
        run=rules.run_agent.output.run,
        prepared=prepared_marker,
        leaderboard=leaderboard_input,
        provenance=redo_stale_grade,
    output:
        grade=RESULTS / "grades" / "{agent}" / "{hardware}" / "{competition}" / "{seed}.json",
    log:
        RESULTS / "logs" / "grades" / "{agent}" / "{hardware}" / "{competition}" / "{seed}.log",
    group:
        "grading"
    # Scoring runs in a bounded sandbox with the job's memory; out of it, the job fails and is
    # retried with twice as much, and at the last size the submission counts as invalid.
    retries: GRADING_RETRIES
    resources:
        runtime=15,
        mem_mb=lambda wc, attempt: grading_memory_mb(attempt),
    params:
        mlepipe=MLEPIPE,
        # Rerun trigger: the grading block (defaults filled in), grade.py and the grading code.
        grading_version=grading_version,
        leaderboards=str(LEADERBOARDS),
        data_dir=DATA,
        run_dir=lambda wc, input: Path(input.run).parent,
        sandbox=GRADING_SANDBOX,
        last_memory_mb=grading_memory_mb(GRADING_RETRIES + 1),
        variant=config["grading_variant"],
    shell:
        "{params.mlepipe} grade-run --run-dir {params.run_dir} --competition {wildcards.competition} "
        "--data-dir {params.data_dir} --leaderboards {params.leaderboards:q} "
        "--memory-mb {resources.mem_mb} --last-memory-mb {params.last_memory_mb} "
        "--time-limit-seconds 840 --sandbox {params.sandbox} "
        "--grading-version {params.grading_version} --variant {params.variant} --output {output.grade} > {log} 2>&1"


rule competition_table:
    """All runs of one competition in one table: the target for rerunning one competition."""
    input:
        grades=competition_grades,
    output:
        table=RESULTS / "competitions" / "{competition}.csv",
    log:
        RESULTS / "logs" / "competitions" / "{competition}.log",
    localrule: True
    script:
        "../scripts/competition_table.py"
