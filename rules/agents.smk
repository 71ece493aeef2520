rule agent_env:
    """An agent's own Python environment (its `requirements:`), built once per digest of the
    requirements and the Python version; the runs of every agent with that digest use it."""
    output:
        complete=ENVS / "{env}" / ".complete",
    log:
        RESULTS / "logs" / "envs" / "{env}.log",
    params:
        mlepipe=MLEPIPE,
        agents_file=config["agents_file"],
        envs_dir=ENVS,
    # pip needs an index: on a cluster, the login node builds it (compute nodes may be offline).
    localrule: True
    shell:
        "{params.mlepipe} build-env --env {wildcards.env} --agents-file {params.agents_file} "
        "--envs-dir {params.envs_dir} > {log} 2>&1"


rule run_agent:
    """One agent on one competition, seed and hardware config, in the sandbox. Always ends with a
    run.json, also when the agent crashes, times out or writes nothing. A cancelled run (scancel,
    Ctrl-C) writes run.json with status cancelled and fails the job: it is no result, and the
    next invocation redoes it."""
    input:
        prepared=prepared_marker,
        image=agent_image_input,
        provenance=redo_stale_run,
        python_env=agent_env_input,
    output:
        run=RESULTS / "runs" / "{agent}" / "{hardware}" / "{competition}" / "{seed}" / "run.json",
    log:
        RESULTS / "logs" / "runs" / "{agent}" / "{hardware}" / "{competition}" / "{seed}.log",
    params:
        mlepipe=MLEPIPE,
        # Rerun triggers: an agent's settings and code, and nothing of other agents.
        agent_version=agent_version,
        # ... and the prices of the models its gateway allows (the run records its cost).
        agent_prices=agent_prices,
        # ... and the task text it is given (descriptions:), by digest.
        description=description_version,
        description_args=DESCRIPTION_ARGS,
        run_dir=lambda wc, output: Path(output.run).parent,
        # Removed as the run starts: a grade never outlives the run it graded.
        grade=lambda wc: rules.grade_run.output.grade.format(**wc),
        data_dir=DATA,
        sandbox=config["sandbox"],
        container=container_args,
        cap=config["submission_cap_mb"],
        # Bounds on the submission's snapshots (mlepipe.harness.snapshots).
        snapshot_versions=config["snapshots"]["max_versions"],
        snapshot_mb=config["snapshots"]["max_mb"],
        agents_file=config["agents_file"],
        hardware_file=config["hardware_file"],
        prices_file=config["prices_file"],
        envs_dir=ENVS,
    threads: lambda wc: run_threads(wc.hardware)
    resources:
        runtime=lambda wc: run_resource(wc.hardware, "runtime"),
        # Fixed across retries: the agent's memory is part of the experiment (hardware config).
        mem_mb=lambda wc: run_resource(wc.hardware, "mem_mb"),
        cpus_per_task=lambda wc: run_resource(wc.hardware, "cpus_per_task"),
        gpu=lambda wc: run_resource(wc.hardware, "gpu"),
        gpu_model=lambda wc: run_resource(wc.hardware, "gpu_model"),
    shell:
        "{params.mlepipe} run-agent --agent {wildcards.agent} --hardware {wildcards.hardware} "
        "--competition {wildcards.competition} --seed {wildcards.seed} "
        "--data-dir {params.data_dir} --run-dir {params.run_dir} --sandbox {params.sandbox} "
        "{params.container} --submission-cap-mb {params.cap} --agents-file {params.agents_file} "
        "--hardware-file {params.hardware_file} --prices-file {params.prices_file} "
        "--grade-file {params.grade} --envs-dir {params.envs_dir} {params.description_args} "
        "--snapshot-max-versions {params.snapshot_versions} --snapshot-max-mb {params.snapshot_mb} "
        "> {log} 2>&1"


rule build_image:
    """An agent's image, built locally from its build context (`build:`); the image id is the
    target, so a changed Dockerfile or context reruns that agent's runs only."""
    input:
        context=agent_build_context,
    output:
        image=RESULTS / "images" / "{agent}.id",
    log:
        RESULTS / "logs" / "images" / "{agent}.log",
    params:
        mlepipe=MLEPIPE,
        engine=config["container_engine"],
        agents_file=config["agents_file"],
    localrule: True
    shell:
        "{params.mlepipe} build-image --agent {wildcards.agent} --agents-file {params.agents_file} "
        "--container-engine {params.engine} --out {output.image} > {log} 2>&1"
