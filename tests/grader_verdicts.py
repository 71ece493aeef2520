"""The grader's (and the validator's) verdict on a fixed set of submissions of every competition,
to check that a change of the checks or metrics leaves the grader's verdicts and scores as they
were.

Each competition's synthetic fixture (tests/fixtures/<id>.py) is prepared; its sample submission
and its perfect submission (the answers as a submission) are graded as they are and with the
mutations of tests/mutations.py (generic ones and the cells its metric cannot read), in the first
row and in every row. A verdict is the rounded score, the reason the submission is invalid, or
the error a check raised instead.

    python tests/grader_verdicts.py --json before.json            # record
    python tests/grader_verdicts.py --json after.json --compare before.json
    python tests/grader_verdicts.py AI4Code --json ai4code.json   # some competitions only

`--compare` prints every submission whose grader verdict (valid or not, and the score) differs,
then the counts; reasons that changed wording are counted apart. Exit status 1 when a verdict
or a score differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from fixtures import FixtureSource, fixture_ids, load  # noqa: E402
from mlepipe.grading.checks import (  # noqa: E402
    GradingSpec,
    InvalidSubmission,
    check_against_sample,
    read_csv_submission,
)
from mlepipe.grading.scoring import load_answers, round_score, score_frames  # noqa: E402
from mlepipe.prepare import prepare  # noqa: E402
from mlepipe.registry import Registry  # noqa: E402
from mutations import GENERIC, mutate, refused  # noqa: E402


def _perfect(comp, module, data: Path) -> pd.DataFrame:
    answers = load_answers(comp.answers_path(data))
    if hasattr(module, "to_submission"):
        return module.to_submission(answers, comp)
    return answers


def _verdict(check, path: Path) -> dict:
    try:
        value = check(read_csv_submission(path))
    except InvalidSubmission as exc:
        return {"invalid": str(exc)}
    except Exception as exc:  # a crash is a verdict to record too: it is a bug
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"valid": True} if value is None else {"score": value}


def competition_verdicts(comp, module, data: Path, scratch: Path) -> dict[str, dict]:
    """{submission name: {"grader": verdict, "validator": verdict}}."""
    prepare(comp, data, FixtureSource(module), verify_reference=False)
    sample = pd.read_csv(comp.sample_submission_path(data))
    answers = load_answers(comp.answers_path(data))
    column = GradingSpec.of(comp).targets(sample)[0]
    bases = {"sample": read_csv_submission(comp.sample_submission_path(data)),
             "perfect": _perfect(comp, module, data)}  # fmt: skip
    submissions = dict(bases)
    for base_name, base in bases.items():
        for name, make in {**GENERIC, **refused(comp)}.items():
            for rows in ("one", "all"):
                submissions[f"{base_name}, {name} in {rows} row(s)"] = mutate(
                    base, column, rows, make
                )
    path = scratch / "submission.csv"
    out = {}
    for name, frame in submissions.items():
        frame.to_csv(path, index=False)
        out[name] = {
            "grader": _verdict(lambda s: round_score(score_frames(s, answers, comp)), path),
            "validator": _verdict(lambda s: check_against_sample(s, sample, comp), path),
        }
    return out


def record(ids: list[str]) -> dict[str, dict]:
    registry = Registry(TESTS.parent / "competitions")
    verdicts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, cid in enumerate(ids, 1):
            print(f"[{n}/{len(ids)}] {cid}", file=sys.stderr)
            scratch = Path(tmp) / cid
            scratch.mkdir()
            verdicts[cid] = competition_verdicts(
                registry.get(cid), load(cid), Path(tmp) / "data", scratch
            )
    return verdicts


def compare(old: dict, new: dict) -> int:
    """Prints the differences; returns the number of grader verdicts or scores that differ."""
    changed = reworded = same = 0
    validator = {"valid before, invalid now": 0, "invalid before, valid now": 0}
    for cid in sorted(set(old) & set(new)):
        for name in sorted(set(old[cid]) & set(new[cid])):
            before, after = old[cid][name]["grader"], new[cid][name]["grader"]
            if before.keys() != after.keys() or before.get("score") != after.get("score"):
                changed += 1
                print(f"CHANGED {cid} | {name}: {before} -> {after}")
            elif before != after:
                reworded += 1
                print(f"reworded {cid} | {name}: {before} -> {after}")
            else:
                same += 1
            was, now = ("invalid" in old[cid][name]["validator"],
                        "invalid" in new[cid][name]["validator"])  # fmt: skip
            if was != now:
                validator["valid before, invalid now" if now else "invalid before, valid now"] += 1
    for side, label in ((old, "only before"), (new, "only now")):
        other = new if side is old else old
        missing = sum(len(side[c]) for c in side if c not in other)
        missing += sum(len(set(side[c]) - set(other[c])) for c in side if c in other)
        if missing:
            print(f"{missing} submission(s) graded {label}")
    print(
        f"grader: {same} same, {reworded} same verdict with another reason, {changed} changed; "
        f"validator: {validator}"
    )
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="competition ids (default: every fixture)")
    parser.add_argument("--json", type=Path, required=True, help="where to write the verdicts")
    parser.add_argument("--compare", type=Path, help="verdicts recorded before, to compare with")
    args = parser.parse_args(argv)
    verdicts = record(args.ids or fixture_ids())
    args.json.write_text(json.dumps(verdicts, indent=1, sort_keys=True) + "\n")
    total = sum(len(v) for v in verdicts.values())
    print(f"{total} submissions of {len(verdicts)} competitions -> {args.json}", file=sys.stderr)
    if args.compare:
        return 1 if compare(json.loads(args.compare.read_text()), verdicts) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
