"""Task texts from the project or from an MLE-bench checkout (mlepipe.descriptions), and the
MLE-bench checkout as a leaderboard source: the checks made before any job starts. The checkout
is written here (MLE-bench's layout, this test's own texts); where MLE-bench's own checkout is
unpacked (/work/mlebench-src) its real texts and Git LFS pointers are read too."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlepipe.descriptions import (
    Description,
    experiment_descriptions,
    is_lfs_pointer,
    resolve,
)
from mlepipe.grading.leaderboards import LeaderboardSource
from mlepipe.grading.medals import LeaderboardError
from mlepipe.pipeline import stale_run
from mlepipe.schemas import ConfigError
from pipeline import REPO

REAL_CHECKOUT = Path("/work/mlebench-src")
POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n"
ID = "spaceship-titanic"


def checkout(root: Path, **files: str) -> Path:
    folder = root / "mlebench" / "competitions" / ID
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name.replace("_md", ".md").replace("_csv", ".csv")).write_text(text)
    return root


@pytest.fixture
def competition(registry):
    return registry.get(ID)


def test_each_source_names_its_file(competition, tmp_path):
    root = checkout(tmp_path, description_md="theirs\n", description_obfuscated_md="obf\n")
    got = {s: experiment_descriptions([competition], s, root)[ID] for s in (
        "own", "own-obfuscated", "mlebench", "mlebench-obfuscated")}  # fmt: skip
    assert got["own"].path == competition.folder / "description.md"
    assert got["own-obfuscated"].path == competition.folder / "description_obfuscated.md"
    assert got["mlebench"].path.read_text() == "theirs\n"
    assert got["mlebench-obfuscated"].sha256 == hashlib.sha256(b"obf\n").hexdigest()
    assert not got["own"].overrides and got["own-obfuscated"].overrides
    assert got["mlebench"].record() == {
        "source": "mlebench",
        "sha256": hashlib.sha256(b"theirs\n").hexdigest(),
    }


def test_a_missing_checkout_or_text_is_a_one_line_config_error(competition, tmp_path):
    with pytest.raises(ConfigError, match="mlebench_checkout is not set"):
        experiment_descriptions([competition], "mlebench", None)
    with pytest.raises(ConfigError, match=r"nowhere does not exist"):
        experiment_descriptions([competition], "mlebench", tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="is no MLE-bench checkout"):
        experiment_descriptions([competition], "mlebench", tmp_path)
    root = checkout(tmp_path / "c", description_md="theirs\n")
    with pytest.raises(ConfigError, match="mlebench-obfuscated has no text for spaceship-titanic"):
        experiment_descriptions([competition], "mlebench-obfuscated", root)
    (root / "mlebench" / "competitions" / ID / "description.md").write_text(POINTER)
    with pytest.raises(ConfigError, match="is a Git LFS pointer, not the file: run `git lfs pull`"):
        resolve(competition, "mlebench", root)


def test_a_run_given_another_text_is_stale(tmp_path):
    run = tmp_path / "run.json"
    theirs = Description("mlebench", tmp_path / "d.md", "a" * 64)
    run.write_text(json.dumps({"agent_version": "v", "description": theirs.record()}))
    assert stale_run(run, "v", theirs) is None
    assert "another description text" in stale_run(run, "v", Description("mlebench", run, "b"))
    assert "another description source" in stale_run(run, "v", Description("own", run, "a"))
    # A run recorded before descriptions were recorded was given the project's own text.
    run.write_text(json.dumps({"agent_version": "v"}))
    assert stale_run(run, "v", Description("own", run, "x")) is None
    assert stale_run(run, "v", theirs) is not None


def test_a_checkout_is_a_leaderboard_source_by_its_layout(competition, tmp_path):
    root = checkout(tmp_path, leaderboard_csv="scoreNullable,teamId,score\n0.9,1,0.9\n0.5,2,0.5\n")
    for value in (str(root), f"mlebench:{root}", {"kind": "mlebench", "path": str(root)}):
        source = LeaderboardSource.parse(value)
        assert (source.kind, source.path) == ("mlebench", root.resolve())
        assert LeaderboardSource.parse(str(source)) == source
    assert (
        source.file_for(competition) == root / "mlebench" / "competitions" / ID / "leaderboard.csv"
    )
    assert source.coverage_error([competition]) is None
    t = source.thresholds(competition)
    assert (t.gold, t.median, t.lower_is_better) == (0.9, 0.7, False)
    with pytest.raises(LeaderboardError, match="is no MLE-bench checkout"):
        LeaderboardSource.parse(f"mlebench:{tmp_path / 'mlebench'}")
    # Another directory stays a directory of <id>.csv files.
    assert LeaderboardSource.parse(str(tmp_path / "mlebench")).kind == "dir"


def test_a_git_lfs_pointer_names_git_lfs_pull(competition, registry, tmp_path):
    root = checkout(tmp_path, leaderboard_csv=POINTER)
    source = LeaderboardSource.parse(root)
    board = source.file_for(competition)
    message = f"{board} is a Git LFS pointer, not the leaderboard: run `git lfs pull` in {root}"
    assert source.coverage_error([competition]) == f"leaderboards: {message}"
    with pytest.raises(LeaderboardError) as exc:
        source.thresholds(competition)
    assert str(exc.value) == message
    # A competition without a leaderboard in the checkout is named as missing.
    other = registry.get("spooky-author-identification")
    (root / "mlebench" / "competitions" / ID / "leaderboard.csv").unlink()
    assert "has no mlebench/competitions/<id>/leaderboard.csv for 2" in source.coverage_error(
        [competition, other]
    )


@pytest.mark.skipif(not REAL_CHECKOUT.is_dir(), reason=f"no MLE-bench checkout at {REAL_CHECKOUT}")
def test_mlebench_own_checkout_gives_its_texts_and_names_its_lfs_pointers(registry):
    ids = ["spaceship-titanic", "spooky-author-identification", "aerial-cactus-identification"]
    competitions = [registry.get(c) for c in ids]
    for source in ("mlebench", "mlebench-obfuscated"):
        found = experiment_descriptions(competitions, source, REAL_CHECKOUT)
        for c in ids:
            name = (
                "description_obfuscated.md" if source.endswith("obfuscated") else "description.md"
            )
            text = REAL_CHECKOUT / "mlebench" / "competitions" / c / name
            assert found[c].sha256 == hashlib.sha256(text.read_bytes()).hexdigest()
    board = REAL_CHECKOUT / "mlebench" / "competitions" / ID / "leaderboard.csv"
    if not is_lfs_pointer(board):
        pytest.skip(f"{board} holds the leaderboard itself (git lfs pull was run)")
    error = LeaderboardSource.parse(REAL_CHECKOUT).coverage_error(competitions)
    assert error == (
        f"leaderboards: {board} is a Git LFS pointer, not the leaderboard: run `git lfs pull` "
        f"in {REAL_CHECKOUT}"
    )


def test_the_harness_refuses_another_text_without_a_sandbox(competition, tmp_path):
    from mlepipe.agents.config import load_agents
    from mlepipe.harness.run import run_agent
    from mlepipe.harness.runner import SandboxUnavailable

    agent = load_agents(REPO / "config" / "agents.yaml")["dummy"]
    text = tmp_path / "description.md"
    text.write_text("theirs\n")
    with pytest.raises(SandboxUnavailable, match="sandbox none cannot show the mlebench"):
        run_agent(
            agent=agent, competition=competition, hardware_name="cpu-small",
            hw={"time_limit_seconds": 10}, seed=0, data_dir=tmp_path / "data",
            run_dir=tmp_path / "run", sandbox="none",
            description=Description("mlebench", text, "0" * 64),
        )  # fmt: skip
    assert not (tmp_path / "run").exists()
