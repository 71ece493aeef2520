"""Writes competitions/<id>/reference_checksums.yaml from a checkout of MLE-bench's repository
(github.com/openai/mle-bench), for every competition of ours that MLE-bench publishes
checksums for: its `mlebench/competitions/<id>/checksums.yaml` turned into our format.

    python scripts/reference_checksums.py /path/to/mle-bench [--commit SHA] [--competitions-dir DIR]

The commit is read with `git rev-parse HEAD` in the checkout unless given. Prints the
competitions that have no checksums there. Exit 2, with one line, on bad input.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlepipe.registry import REFERENCE_CHECKSUMS, Registry  # noqa: E402
from mlepipe.schemas import ConfigError, validate  # noqa: E402

UPSTREAM = Path("mlebench") / "competitions"


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    """MLE-bench's nested {public: {name: md5}, private: {...}} as {"public/name": md5}."""
    out: dict[str, str] = {}
    for name, value in (tree or {}).items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "/"))
        else:
            out[path] = value
    return out


def convert(upstream: dict, commit: str) -> dict:
    """One upstream checksums.yaml (parsed) in our format."""
    prepared = flatten({side: upstream.get(side) or {} for side in ("public", "private")})
    return {
        "mlebench_commit": commit,
        "download": upstream["zip"],
        "prepared": dict(sorted(prepared.items())),
    }


def render(competition_id: str, reference: dict) -> str:
    header = (
        "# MLE-bench's MD5s of this competition's prepared files, from its repository\n"
        "# (github.com/openai/mle-bench) at mlebench_commit:\n"
        f"# mlebench/competitions/{competition_id}/checksums.yaml\n"
        "# Written by scripts/reference_checksums.py; `mlepipe prepare` checks against them.\n"
    )
    return header + yaml.safe_dump(reference, sort_keys=False)


def git_commit(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{checkout} is not a git checkout: give its commit with --commit")
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="a checkout of github.com/openai/mle-bench")
    parser.add_argument("--commit", help="the checkout's commit (default: git rev-parse HEAD)")
    parser.add_argument("--competitions-dir", type=Path, default=REPO / "competitions")
    args = parser.parse_args(argv)
    upstream_dir = args.checkout / UPSTREAM
    if not upstream_dir.is_dir():
        print(
            f"error: {upstream_dir} does not exist; is {args.checkout} MLE-bench?", file=sys.stderr
        )
        return 2
    commit = args.commit or git_commit(args.checkout)
    registry = Registry(args.competitions_dir)
    written, absent = 0, []
    for competition in registry.all():
        source = upstream_dir / competition.id / "checksums.yaml"
        if not source.is_file():
            absent.append(competition.id)
            continue
        reference = convert(yaml.safe_load(source.read_text()), commit)
        try:
            validate("reference_checksums", reference, str(source))
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        (competition.folder / REFERENCE_CHECKSUMS).write_text(render(competition.id, reference))
        written += 1
    print(f"wrote {written} reference checksum files (MLE-bench at {commit})")
    if absent:
        print(f"no checksums in MLE-bench for {len(absent)}: {', '.join(absent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
