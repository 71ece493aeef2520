rule prepare_competition:
    """Obtain a competition's raw zip (Kaggle, mirror, or built locally for practice) and prepare
    its public/private files; shared by every run of that competition."""
    input:
        raw_zip=raw_zip_input,
    output:
        checksums=DATA / "{competition}" / "checksums.yaml",
    log:
        RESULTS / "logs" / "prepare" / "{competition}.log",
    benchmark:
        RESULTS / "benchmarks" / "prepare" / "{competition}.tsv"
    params:
        mlepipe=MLEPIPE,
        # Rerun trigger: the definition's source/files/preparation blocks, descriptions, its
        # prepare.py and the preparer code it uses; nothing about grading.
        preparation_version=preparation_version,
        mirror=f"--mirror {MIRROR}" if MIRROR else "",
        data_dir=DATA,
        # A param, so that switching it prepares again: each record says whether it was checked.
        verify_reference="" if config["verify_reference"] else "--no-verify-reference",
    # No retries here: the Kaggle client's transient failures are retried inside the job.
    localrule: True
    shell:
        "{params.mlepipe} -v prepare {wildcards.competition} --data-dir {params.data_dir} "
        "{params.mirror} {params.verify_reference} --force > {log} 2>&1"
