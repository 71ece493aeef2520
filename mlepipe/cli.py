"""`mlepipe`: the command line. A thin layer over functions the pipeline also calls.

Exit codes: 0 success; 1 a negative verdict (`validate` found the submission invalid);
2 a usage or setup error (unknown competition, missing data, bad arguments, data that cannot be
prepared), in one line; 3 grading ran out of memory or time and will be retried with more;
141 (128 + SIGPIPE, what a shell reports for a tool that SIGPIPE ended) when the reader of the
output went away, as in `mlepipe list | head -1`: the command stops at once and quietly, without
writing anything more.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
EXIT_RETRY = 3  # grading ran out of memory or time; a retry with more memory follows
EXIT_BROKEN_PIPE = 128 + 13  # 128 + SIGPIPE


class UserError(Exception):
    """An expected error: printed as one line, exit code 2."""


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("MLEPIPE_DATA_DIR") or "data")


def _registry():
    from mlepipe.registry import Registry

    return Registry()


def cmd_list(args) -> int:
    reg = _registry()
    ids = reg.resolve(args.names or ["all"])
    for cid in ids:
        c = reg.get(cid)
        if args.long:
            print(f"{c.id}\t{c.category}\t{','.join(c.splits)}\t{c.metric_name}")
        else:
            print(c.id)
    return EXIT_OK


def cmd_prepare(args) -> int:
    from mlepipe.prepare import prepare
    from mlepipe.sources import make_source

    reg = _registry()
    data_dir = _data_dir(args.data_dir)
    source = make_source(Path(args.mirror) if args.mirror else None)
    ids = reg.resolve(args.ids)
    for n, cid in enumerate(ids, 1):
        print(f"[{n}/{len(ids)}] {cid}", file=sys.stderr)
        prepare(
            reg.get(cid), data_dir, source,
            force=args.force, verify=not args.skip_verify, keep_raw=not args.no_keep_raw,
            verify_reference=not args.no_verify_reference,
        )  # fmt: skip
    return EXIT_OK


def cmd_validate(args) -> int:
    """Checks a submission with public files only (usable inside an agent's sandbox). With
    ``--answer mlebench`` the verdict is printed as MLE-bench's validation endpoint answers
    (JSON), and the exit status is 0 whatever the verdict, as for its script's curl call."""
    if args.answer != "mlebench":
        return _validate(args)
    import contextlib
    import io

    from mlepipe.agents import mlebench

    text = io.StringIO()
    try:
        with contextlib.redirect_stdout(text):
            verdict = _validate(args)
    except Exception as exc:  # the endpoint's "unexpected error" answer
        print(mlebench.endpoint_error(str(exc)))
        return EXIT_OK
    message = text.getvalue().strip().removeprefix("invalid: ")
    print(mlebench.endpoint_answer(verdict == EXIT_OK, message))
    return EXIT_OK


def _validate(args) -> int:
    import pandas as pd

    from mlepipe.grading.checks import InvalidSubmission, check_against_sample, read_csv_submission

    comp = _registry().get(args.competition)
    rel = Path(comp.spec["files"]["sample_submission"])
    public = rel.parts[0] == "public"
    if args.public_dir:
        sample_path = Path(args.public_dir) / rel.relative_to("public") if public else None
    else:
        sample_path = comp.sample_submission_path(_data_dir(args.data_dir))
    if sample_path is not None and not sample_path.is_file():
        raise UserError(f"sample submission not found at {sample_path}; prepare the data first")
    try:
        submission = read_csv_submission(Path(args.submission))
        if sample_path is None:
            # A few competitions ship their sample submission only inside a public archive.
            print(
                f"valid CSV with {len(submission)} rows; {comp.id} has no plain public sample "
                "submission, so columns and ids are not checked here"
            )
            return EXIT_OK
        check_against_sample(submission, pd.read_csv(sample_path), comp)
    except InvalidSubmission as exc:
        print(f"invalid: {exc}")
        return EXIT_INVALID
    print("valid: the submission has the expected format (its score is not checked here)")
    return EXIT_OK


def cmd_grade_sample(args) -> int:
    from mlepipe.grading.leaderboards import LeaderboardSource
    from mlepipe.grading.report import grade_submission

    comp = _registry().get(args.competition)
    report = grade_submission(
        Path(args.submission), comp, _data_dir(args.data_dir),
        LeaderboardSource.parse(args.leaderboards), variant=args.variant,
    )  # fmt: skip
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return EXIT_OK


def cmd_grade(args) -> int:
    """Grades a JSONL of {competition_id, submission_path} lines (MLE-bench's input format)."""
    import time

    from mlepipe.grading.leaderboards import LeaderboardSource
    from mlepipe.grading.report import batch_summary, grade_submission, write_json

    reg = _registry()
    data_dir = _data_dir(args.data_dir)
    source = LeaderboardSource.parse(args.leaderboards)
    entries = []
    with open(args.submissions, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith(("#", "//")):
                continue
            try:
                entry = json.loads(line)
                entries.append((entry["competition_id"], entry["submission_path"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise UserError(
                    f"{args.submissions}:{lineno}: expected a JSON object with "
                    "competition_id and submission_path"
                ) from None
    reports = []
    for n, (cid, path) in enumerate(entries, 1):
        print(f"[{n}/{len(entries)}] grading {cid}", file=sys.stderr)
        reports.append(
            grade_submission(Path(path), reg.get(cid), data_dir, source, variant=args.variant)
        )
    summary = batch_summary(reports)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S-%Z", time.gmtime())
    out = Path(args.output_dir) / f"{stamp}_grading_report.json"
    write_json(summary, out)
    brief = {k: v for k, v in summary.items() if k != "competition_reports"}
    print(json.dumps(brief, indent=2))
    print(f"report written to {out}", file=sys.stderr)
    return EXIT_OK


def cmd_grade_run(args) -> int:
    """Grades a finished run directory into a grade record (used by the pipeline)."""
    from mlepipe.grading.leaderboards import LeaderboardSource
    from mlepipe.grading.report import grade_run, score_submission, write_json

    scorer = score_submission
    if args.memory_mb:
        from mlepipe.bounded_grading import SandboxedScorer

        scorer = SandboxedScorer(
            memory_mb=args.memory_mb, last_memory_mb=args.last_memory_mb,
            seconds=args.time_limit_seconds, sandbox=args.sandbox, run_dir=Path(args.run_dir),
        )  # fmt: skip
    grade = grade_run(
        Path(args.run_dir), _registry().get(args.competition), Path(args.data_dir),
        LeaderboardSource.parse(args.leaderboards), scorer, grading_version=args.grading_version,
        variant=args.variant,
    )  # fmt: skip
    write_json(grade, Path(args.output))
    return EXIT_OK


def cmd_score_submission(args) -> int:
    """Scores submissions, without medals, into a JSON file (the bounded grader's child)."""
    from mlepipe.bounded_grading import score_to_file

    score_to_file(
        [Path(p) for p in args.submission], _registry().get(args.competition),
        Path(args.data_dir), Path(args.output),
    )  # fmt: skip
    return EXIT_OK


def cmd_thresholds(args) -> int:
    from mlepipe.grading.medals import thresholds_from_leaderboard

    lib = {"lower": True, "higher": False, None: None}[args.better]
    t = thresholds_from_leaderboard(Path(args.leaderboard), lower_is_better=lib)
    print(json.dumps(t.as_dict(), indent=2))
    return EXIT_OK


def _report_grades(args):
    """The grade records of --grades as a frame, with the bootstrap settings of the command."""
    from mlepipe.reports.stats import Bootstrap
    from mlepipe.reports.summary import grades_dir, grades_frame, read_grade_records

    records, unreadable = read_grade_records(args.grades)
    if unreadable:
        raise UserError(f"grade file {unreadable[0]} cannot be read")
    if not records:
        raise UserError(
            f"no grades under {grades_dir(args.grades)} "
            "(expected <agent>/<hardware>/<competition>/<seed>.json)"
        )
    if not 0 < args.level < 1 or args.resamples < 1:
        raise UserError("--level must lie between 0 and 1, --resamples be at least 1")
    return records, grades_frame(records), Bootstrap(args.resamples, args.level, args.seed)


def cmd_compare(args) -> int:
    """The paired comparison of two agents, as Markdown."""
    from mlepipe.reports.tables import comparison_sections, markdown_table

    _, grades, bootstrap = _report_grades(args)
    try:
        *_, sections = comparison_sections(
            grades, args.agent_a, args.agent_b, args.missing_seeds, bootstrap
        )
    except ValueError as exc:
        raise UserError(f"{exc} under {args.grades}") from None
    title = f"{args.agent_a} against {args.agent_b}"
    print("\n".join(markdown_table(h or title, n, c, r) for h, n, c, r in sections), end="")
    return EXIT_OK


def cmd_export_leaderboard(args) -> int:
    """Grading reports in MLE-bench's run-group layout and its README's table."""
    from mlepipe.hardware import load_hardware
    from mlepipe.reports.leaderboard import export_leaderboard

    records, _, _ = _report_grades(args)
    hardware = {n: hw.as_run_limits() for n, hw in load_hardware(Path(args.hardware_file)).items()}
    reports, table = export_leaderboard(records, Path(args.output), hardware, args.missing_seeds)
    print(table.read_text(), end="")
    print(f"{len(reports)} grading reports under {Path(args.output) / 'runs'}", file=sys.stderr)
    return EXIT_OK


def cmd_build_env(args) -> int:
    from mlepipe.agents.config import load_agents
    from mlepipe.agents.envs import build_env, env_digest

    agents = load_agents(Path(args.agents_file))
    if args.agent:
        if args.agent not in agents:
            raise UserError(f"no agent '{args.agent}' in {args.agents_file}")
        agent = agents[args.agent]
    else:  # the pipeline names the environment, built once for every agent that shares it
        found = [a for a in agents.values() if a.has_own_env and env_digest(a) == args.env]
        if not found:
            raise UserError(f"no agent in {args.agents_file} has the environment {args.env}")
        agent = found[0]
    print(build_env(agent, Path(args.envs_dir)))
    return EXIT_OK


def cmd_export_bundle(args) -> int:
    from mlepipe.bundle import BundleError, export_bundle

    configs = [Path(c) for c in (args.configfile or ["config/config.yaml"])]
    try:
        manifest = export_bundle(Path(args.results), Path(args.out), configs, Path(args.workflow))
    except BundleError as exc:
        raise UserError(str(exc)) from None
    for note in manifest["not_carried"]:
        print(f"note: {note}", file=sys.stderr)
    print(f"{args.out}: {len(manifest['runs'])} runs of {len(manifest['agents'])} agent(s)")
    return EXIT_OK


def cmd_replay_bundle(args) -> int:
    from mlepipe.bundle import BundleError, replay_bundle

    try:
        replay = replay_bundle(
            Path(args.bundle), Path(args.dir), Path(args.mirror) if args.mirror else None,
            cores=args.cores,
        )  # fmt: skip
    except BundleError as exc:
        raise UserError(str(exc)) from None
    for note in replay.notes:
        print(f"note: {note}", file=sys.stderr)
    same = len(replay.compared) - len(replay.differing)
    print(f"replayed into {replay.folder}: {same} of {len(replay.compared)} report files as in "
          "the bundle")  # fmt: skip
    for name in replay.differing:
        print(f"differs: {name}")
    return EXIT_INVALID if replay.differing else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlepipe",
        description="Prepare MLE-bench competitions, run agents on them, grade and report.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def variant_arg(sp):
        from mlepipe.grading.variants import DEFAULT_VARIANT, VARIANTS

        sp.add_argument(
            "--variant", choices=VARIANTS, default=DEFAULT_VARIANT,
            help="the grading variant that MLE-bench's report fields follow (default "
            f"{DEFAULT_VARIANT}); the report holds both under `variants`",
        )  # fmt: skip

    def data_dir_arg(sp):
        sp.add_argument(
            "--data-dir",
            help="data directory (MLE-bench layout <dir>/<id>/prepared/...); "
            "default $MLEPIPE_DATA_DIR or ./data",
        )

    sp = sub.add_parser("list", help="list competitions (ids or split names)")
    sp.add_argument("names", nargs="*", help="competition ids or splits (lite, dev, practice, ...)")
    sp.add_argument("-l", "--long", action="store_true", help="also category, splits and metric")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser("prepare", help="download (or take from a mirror) and prepare competitions")
    sp.add_argument("ids", nargs="+", metavar="ID", help="competition ids or split names")
    data_dir_arg(sp)
    sp.add_argument("--mirror", help="directory of <id>.zip files to use instead of Kaggle")
    sp.add_argument("--force", action="store_true", help="prepare again even if prepared")
    sp.add_argument("--skip-verify", action="store_true", help="do not verify recorded checksums")
    sp.add_argument(
        "--no-verify-reference",
        action="store_true",
        help="accept prepared files that differ from MLE-bench's published MD5s (recorded in "
        "<id>/checksums.yaml)",
    )
    sp.add_argument("--no-keep-raw", action="store_true", help="delete raw/ after preparing")
    sp.set_defaults(func=cmd_prepare)

    sp = sub.add_parser("validate", help="check a submission's format using public files only")
    sp.add_argument("submission")
    sp.add_argument("competition")
    data_dir_arg(sp)
    sp.add_argument("--public-dir", help="the competition's public folder (instead of --data-dir)")
    sp.add_argument(
        "--answer", choices=["text", "mlebench"], default="text",
        help="mlebench: print the verdict as MLE-bench's validation endpoint answers (JSON)",
    )  # fmt: skip
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("grade-sample", help="grade one submission; prints a JSON report")
    sp.add_argument("submission")
    sp.add_argument("competition")
    data_dir_arg(sp)
    sp.add_argument("--leaderboards", default=os.environ.get("MLEPIPE_LEADERBOARDS", "none"),
                    help="leaderboard directory, thresholds .csv, 'kaggle' or 'none' "
                    "(default $MLEPIPE_LEADERBOARDS or none)")  # fmt: skip
    variant_arg(sp)
    sp.set_defaults(func=cmd_grade_sample)

    sp = sub.add_parser("grade", help="grade a JSONL of submissions; writes a summary report")
    sp.add_argument("--submissions", required=True, help="JSONL: competition_id, submission_path")
    data_dir_arg(sp)
    sp.add_argument("--output-dir", required=True)
    sp.add_argument(
        "--leaderboards",
        default=os.environ.get("MLEPIPE_LEADERBOARDS", "none"),
        help="leaderboard directory, thresholds .csv, 'kaggle' or 'none'",
    )
    variant_arg(sp)
    sp.set_defaults(func=cmd_grade)

    sp = sub.add_parser("grade-run", help="grade a finished run directory into a grade record")
    sp.add_argument("--run-dir", required=True)
    sp.add_argument("--competition", required=True)
    data_dir_arg(sp)
    sp.add_argument("--leaderboards", default="none", help="as for grade-sample")
    sp.add_argument("--output", required=True)
    sp.add_argument(
        "--memory-mb", type=int, help="score in a bounded sandbox with this much memory"
    )
    sp.add_argument(
        "--last-memory-mb", type=int,
        help="the most memory a retry would get: below it, running out exits 3 (retry)",
    )  # fmt: skip
    sp.add_argument("--time-limit-seconds", type=float, default=1800.0)
    sp.add_argument("--sandbox", default="bubblewrap", help="runner of the bounded sandbox")
    sp.add_argument("--grading-version", help="the grading code's digest, kept in the grade")
    variant_arg(sp)
    sp.set_defaults(func=cmd_grade_run)

    sp = sub.add_parser("score-submission", help="score submissions (no medals) into a JSON file")
    sp.add_argument("submission", nargs="+", help="one or more submissions of one competition")
    sp.add_argument("competition")
    data_dir_arg(sp)
    sp.add_argument("--output", required=True)
    sp.set_defaults(func=cmd_score_submission)

    sp = sub.add_parser("thresholds", help="medal thresholds of a leaderboard CSV, as JSON")
    sp.add_argument("leaderboard")
    sp.add_argument(
        "--better",
        choices=["lower", "higher"],
        help="score direction (default: detected from the leaderboard's order)",
    )
    sp.set_defaults(func=cmd_thresholds)

    def report_args(sp):
        sp.add_argument(
            "--grades",
            required=True,
            help="grades folder (results/grades) or the results folder above it",
        )
        sp.add_argument(
            "--missing-seeds",
            choices=["pad", "drop"],
            default="pad",
            help="a run without a grade counts as a failure (pad, default) or is left out (drop)",
        )
        sp.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples")
        sp.add_argument("--level", type=float, default=0.95, help="interval level")
        sp.add_argument("--seed", type=int, default=0, help="bootstrap RNG seed")  # fmt: skip

    sp = sub.add_parser("compare", help="paired comparison of two agents on the same competitions")
    report_args(sp)
    sp.add_argument("agent_a", metavar="A")
    sp.add_argument("agent_b", metavar="B")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser(
        "export-leaderboard",
        help="grading reports in MLE-bench's runs/<run group>/ layout and its leaderboard table",
    )
    report_args(sp)
    sp.add_argument("--output", required=True, help="folder for runs/ and leaderboard.md")
    sp.add_argument("--hardware-file", default="config/hardware.yaml",
                    help="hardware configs, for the time limit and hardware columns")  # fmt: skip
    sp.set_defaults(func=cmd_export_leaderboard)

    sp = sub.add_parser("build-env", help="build an agent's own Python environment")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--agent", help="the agent whose `requirements:` to install")
    which.add_argument("--env", help="the environment's digest (any agent that has it)")
    sp.add_argument("--agents-file", default="config/agents.yaml")
    sp.add_argument("--envs-dir", default="results/envs")
    sp.set_defaults(func=cmd_build_env)

    sp = sub.add_parser(
        "export-bundle", help="write a finished experiment into one archive (replay bundle)"
    )
    sp.add_argument("--results", default="results", help="the experiment's results folder")
    sp.add_argument("--out", required=True, help="the archive to write (.tar.gz)")
    sp.add_argument(
        "--configfile", action="append",
        help="the experiment's config file(s), as given to snakemake; default config/config.yaml",
    )  # fmt: skip
    sp.add_argument("--workflow", default=".", help="the workflow folder (Snakefile); default .")
    sp.set_defaults(func=cmd_export_bundle)

    sp = sub.add_parser(
        "replay-bundle", help="regrade a bundle and rebuild its reports, running no agent"
    )
    sp.add_argument("bundle", help="an archive from export-bundle")
    sp.add_argument("--dir", required=True, help="a new (or empty) folder to replay in")
    sp.add_argument("--mirror", help="directory of <id>.zip files to prepare the data from")
    sp.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2)")
    sp.set_defaults(func=cmd_replay_bundle)

    from mlepipe.harness import images, run

    run.add_commands(sub)
    images.add_commands(sub)
    return p


def _reader_gone(stream) -> bool:
    """Whether ``stream`` is a pipe whose reader has closed it (poll reports an error)."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), 0)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _grading_retry() -> type[BaseException]:
    from mlepipe.bounded_grading import GradingOutOfResources

    return GradingOutOfResources


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from mlepipe.agents.envs import EnvironmentBuildError
    from mlepipe.grading.medals import LeaderboardError
    from mlepipe.grading.scoring import AnswersChanged
    from mlepipe.harness.gpus import GpuUnavailable
    from mlepipe.harness.lock import LockTimeout
    from mlepipe.harness.runner import SandboxUnavailable
    from mlepipe.preparers.errors import PreparationError
    from mlepipe.schemas import ConfigError

    expected: tuple[type[BaseException], ...] = (
        UserError, ConfigError, PreparationError, LeaderboardError, FileNotFoundError,
        SandboxUnavailable, GpuUnavailable, AnswersChanged, LockTimeout,
        EnvironmentBuildError,
    )  # fmt: skip
    try:
        from mlepipe.sources import AcquisitionError

        expected += (AcquisitionError,)
    except ImportError:
        pass
    try:
        code = args.func(args)
        sys.stdout.flush()  # a reader gone away shows here, not at interpreter exit
        return code
    except _grading_retry() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_RETRY
    except BrokenPipeError:
        if not _reader_gone(sys.stdout):
            raise  # some other pipe broke: that is a real error
        # Python ignores SIGPIPE, so a closed pipe is an exception: end as SIGPIPE would, and
        # point stdout at devnull so that the flush at exit cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except expected as exc:
        print(f"mlepipe: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
