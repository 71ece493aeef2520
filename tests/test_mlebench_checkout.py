"""An MLE-bench checkout as the source of task texts and leaderboards, through `snakemake` on a
real competition (spaceship-titanic from ../shared/kaggle-mirror).

The checkout is written here, in MLE-bench's layout (mlebench/competitions/<id>/...), with texts
this test writes and a leaderboard.csv in the Kaggle API's columns (MLE-bench's files have
`scoreNullable,teamId,hasTeamName,submissionDate,score,hasScore`) made from the shared private
leaderboard. Where MLE-bench's own checkout is unpacked (/work/mlebench-src, its leaderboards Git
LFS pointers), its pointer is checked to give the one-line error."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from mlepipe.grading.medals import thresholds_from_leaderboard
from pipeline import REPO, Workflow, jobs_planned, needs_bubblewrap_and_mirror

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = needs_bubblewrap_and_mirror()

COMPETITION = "spaceship-titanic"
REAL_CHECKOUT = Path("/work/mlebench-src")
POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:0000000000000000000000000000000000000000000000000000000000000000\nsize 1234\n"
)
TEXT = "# Spaceship (checkout's text)\n\nPredict `Transported` for each passenger.\n"
OBFUSCATED = "# A binary task (checkout's obfuscated text)\n"
# An agent that keeps the description it was shown, then runs the builtin baseline.
AGENTS = {
    "peek": {
        "kind": "command",
        "command": "sh -c 'cp /home/data/description.md /home/logs/seen.md && "
        "exec python -m mlepipe.agents.baseline'",
    },
    "dummy": {"kind": "builtin"},
}
HARDWARE = {"cpu-small": {"cpus": 1, "memory_gb": 3, "time_limit": "5m"}}


def write_checkout(root: Path) -> Path:
    """MLE-bench's layout with this test's texts and a leaderboard in the Kaggle API's columns."""
    folder = root / "mlebench" / "competitions" / COMPETITION
    folder.mkdir(parents=True)
    (folder / "description.md").write_text(TEXT)
    (folder / "description_obfuscated.md").write_text(OBFUSCATED)
    board = pd.read_csv(SHARED / "mlebench-reference" / "leaderboards" / f"{COMPETITION}.csv")
    pd.DataFrame({
        "scoreNullable": board["score"], "teamId": range(1, len(board) + 1),
        "hasTeamName": True, "submissionDate": "2022-11-01 00:00:00",
        "score": board["score"], "hasScore": True,
    }).to_csv(folder / "leaderboard.csv", index=False)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    checkout = write_checkout(root / "mle-bench")
    config = {
        "competitions": [COMPETITION], "agents": list(AGENTS), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(root / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        # A bare path: the layout says it is an MLE-bench checkout.
        "leaderboards": str(checkout), "descriptions": "mlebench",
        "mlebench_checkout": str(checkout),
    }  # fmt: skip
    workflow = Workflow(root / "wf", config, agents=AGENTS, hardware=HARDWARE)
    workflow.snakemake(timeout=900)
    workflow.checkout = checkout
    return workflow


def official_thresholds() -> dict:
    table = pd.read_csv(SHARED / "mlebench-reference" / "thresholds.csv")
    return table.set_index("competition_id").loc[COMPETITION].to_dict()


def medal(score: float, t: dict) -> str:
    for name in ("gold", "silver", "bronze"):
        bound = t[f"{name}_threshold"]
        if (score <= bound) if t["is_lower_better"] else (score >= bound):
            return name
    return "none"


def test_the_agent_reads_the_checkouts_text_and_run_json_records_its_digest(wf):
    run_dir = wf.results / "runs" / "peek" / "cpu-small" / COMPETITION / "0"
    assert (run_dir / "logs" / "seen.md").read_text() == TEXT
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "ok"
    assert run["description"] == {
        "source": "mlebench",
        "sha256": hashlib.sha256(TEXT.encode()).hexdigest(),
    }
    # The prepared data, shared by every experiment, keep the project's own text.
    public = wf.root.parent / "data" / COMPETITION / "prepared" / "public" / "description.md"
    own = (REPO / "competitions" / COMPETITION / "description.md").read_text()
    assert public.read_text() == own != TEXT


def test_medals_come_from_the_checkouts_leaderboard(wf):
    board = wf.checkout / "mlebench" / "competitions" / COMPETITION / "leaderboard.csv"
    t = thresholds_from_leaderboard(board)
    official = official_thresholds()
    grades = {k[0]: g for k, g in wf.grades().items()}
    assert set(grades) == set(AGENTS)
    for name, g in grades.items():
        assert g["valid_submission"] and g["medals_known"], name
        assert g["gold_threshold"] == t.gold and g["bronze_threshold"] == t.bronze
        assert g["median_threshold"] == t.median and g["is_lower_better"] is False
        # This leaderboard gives the official medal thresholds, so the medal is the official one.
        assert (t.gold, t.silver, t.bronze) == pytest.approx(
            (official["gold_threshold"], official["silver_threshold"], official["bronze_threshold"])
        )
        got = next((m for m in ("gold", "silver", "bronze") if g[f"{m}_medal"]), "none")
        assert got == medal(g["score"], official), (name, g["score"])
    # The baseline medals here; the sample submission does not.
    assert grades["peek"]["any_medal"] and not grades["dummy"]["any_medal"]


def test_only_a_change_of_the_text_given_reruns(wf):
    obfuscated = (
        wf.checkout / "mlebench" / "competitions" / COMPETITION / "description_obfuscated.md"
    )
    text = wf.checkout / "mlebench" / "competitions" / COMPETITION / "description.md"
    assert jobs_planned(wf.snakemake("-n")) == {}
    obfuscated.write_text(OBFUSCATED + "edited\n")  # not the text given: nothing reruns
    assert jobs_planned(wf.snakemake("-n")) == {}
    text.write_text(TEXT + "edited\n")
    try:
        planned = jobs_planned(wf.snakemake("-n"))
        assert planned["run_agent"] == len(AGENTS) and "prepare_competition" not in planned
    finally:
        text.write_text(TEXT)
    assert jobs_planned(wf.snakemake("-n")) == {}
    planned = jobs_planned(wf.snakemake("-n", "--config", "descriptions=mlebench-obfuscated"))
    assert planned["run_agent"] == len(AGENTS)
    planned = jobs_planned(wf.snakemake("-n", "--config", "descriptions=own"))
    assert planned["run_agent"] == len(AGENTS)


def one_line_error(proc) -> str:
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr  # Snakemake prints a workflow error on stdout
    lines = [ln for ln in output.splitlines() if "git lfs pull" in ln or "does not" in ln]
    assert len(lines) == 1, output[-2000:]
    return lines[0]


def test_a_git_lfs_pointer_in_place_of_the_leaderboard_stops_before_any_job(wf, tmp_path):
    checkout = write_checkout(tmp_path / "pointers")
    board = checkout / "mlebench" / "competitions" / COMPETITION / "leaderboard.csv"
    board.write_text(POINTER)
    proc = wf.snakemake("-n", "--config", f"leaderboards={checkout}", check=False)
    assert one_line_error(proc).endswith(
        f"{board} is a Git LFS pointer, not the leaderboard: run `git lfs pull` in {checkout}"
    )


@pytest.mark.skipif(not REAL_CHECKOUT.is_dir(), reason=f"no MLE-bench checkout at {REAL_CHECKOUT}")
def test_mlebench_own_checkout_without_lfs_objects_names_git_lfs_pull(wf):
    board = REAL_CHECKOUT / "mlebench" / "competitions" / COMPETITION / "leaderboard.csv"
    if not board.read_text().startswith("version https://git-lfs"):
        pytest.skip(f"{board} holds the leaderboard itself (git lfs pull was run)")
    proc = wf.snakemake("-n", "--config", f"leaderboards={REAL_CHECKOUT}", check=False)
    assert one_line_error(proc).endswith(
        f"{board} is a Git LFS pointer, not the leaderboard: run `git lfs pull` in {REAL_CHECKOUT}"
    )
    # Its texts are real: the agent would be given MLE-bench's own description.
    proc = wf.snakemake(
        "-n", "--config", f"mlebench_checkout={REAL_CHECKOUT}", "descriptions=mlebench"
    )
    assert jobs_planned(proc)["run_agent"] == len(AGENTS)


def test_a_missing_checkout_or_text_is_one_line_before_any_job(wf, tmp_path):
    proc = wf.snakemake("-n", "--config", f"mlebench_checkout={tmp_path / 'nowhere'}", check=False)
    assert one_line_error(proc).endswith(
        f"mlebench_checkout: {tmp_path / 'nowhere'} does not exist"
    )
    checkout = write_checkout(tmp_path / "partial")
    text = checkout / "mlebench" / "competitions" / COMPETITION / "description_obfuscated.md"
    text.unlink()
    proc = wf.snakemake(
        "-n", "--config", f"mlebench_checkout={checkout}", "descriptions=mlebench-obfuscated",
        check=False,
    )  # fmt: skip
    assert one_line_error(proc).endswith(
        f"descriptions: mlebench-obfuscated has no text for {COMPETITION} ({text} does not exist)"
    )
    proc = wf.snakemake("-n", "--config", "sandbox=none", check=False)
    assert proc.returncode != 0 and "sandbox: none runs on the host" in proc.stdout + proc.stderr
