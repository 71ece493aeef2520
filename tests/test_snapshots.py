"""The submission watcher (mlepipe.harness.snapshots), look by look: deduplication, bounds,
files still being written, and what a hostile agent may put in place of its submission."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from mlepipe.harness.snapshots import (
    INDEX,
    SnapshotLimits,
    SubmissionWatcher,
    read_index,
)


@pytest.fixture
def folders(tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    return sub, tmp_path / "snapshots"


def watcher(folders, **limits) -> SubmissionWatcher:
    sub, dest = folders
    dest.mkdir(exist_ok=True)
    # Look by look, each file is read as soon as it is unchanged (no pacing of the reads).
    return SubmissionWatcher(sub, dest, SnapshotLimits(**{"copy_share": None, **limits}))


def settle(w: SubmissionWatcher):
    """Two looks: a new file is taken on the second one that sees it unchanged."""
    assert w.look() is None
    return w.look()


def test_a_version_is_taken_once_it_is_unchanged_between_two_looks(folders):
    sub, dest = folders
    w = watcher(folders)
    (sub / "submission.csv").write_text("id,y\n1,0\n")
    v = settle(w)
    assert v is not None and v.bytes == 9
    assert v.sha256 == hashlib.sha256(b"id,y\n1,0\n").hexdigest()
    assert (dest / v.file).read_bytes() == b"id,y\n1,0\n"
    assert w.look() is None  # nothing new
    assert [e["sha256"] for e in read_index(dest.parent)] == [v.sha256]


def test_a_file_being_written_waits_for_the_next_look(folders):
    sub, _ = folders
    w = watcher(folders)
    path = sub / "submission.csv"
    path.write_text("id,y\n")
    assert w.look() is None
    with path.open("a") as f:
        f.write("1,0\n")  # changed between the two looks
    assert w.look() is None
    v = w.look()
    assert v is not None and v.bytes == len("id,y\n1,0\n")


def test_the_same_content_again_is_no_new_version_and_an_old_one_is_stored_once(folders):
    sub, dest = folders
    w = watcher(folders)
    path = sub / "submission.csv"
    path.write_text("a\n")
    first = settle(w)
    os.utime(path, ns=(1, 1))  # same bytes, new mtime
    assert settle(w) is None
    path.write_text("b\n")
    settle(w)
    path.write_text("a\n")  # back to the first
    again = settle(w)
    assert again is not None and again.file == first.file
    assert [v.sha256 for v in w.versions] == [first.sha256, w.versions[1].sha256, first.sha256]
    assert sorted(p.name for p in dest.glob("*.csv")) == sorted({first.file, w.versions[1].file})
    assert w.summary()["distinct"] == 2 and w.stored_bytes == 4


def test_past_the_count_only_the_final_version_is_taken(folders):
    sub, _ = folders
    w = watcher(folders, max_versions=3)
    path = sub / "submission.csv"
    for i in range(6):
        path.write_text(f"v{i}\n")
        settle(w)
    assert [(sub.parent / "snapshots" / v.file).read_text() for v in w.versions] == [
        "v0\n",
        "v1\n",
    ]
    w.look(final=True)
    texts = [(sub.parent / "snapshots" / v.file).read_text() for v in w.versions]
    assert texts == ["v0\n", "v1\n", "v5\n"]
    # v2, v3 and v4 were seen but not read (the bound): only stat calls were spent on them.
    assert len(read_index(sub.parent)) == 3


def test_the_size_bound_skips_versions_and_the_final_one_makes_room(folders):
    sub, dest = folders
    w = watcher(folders, max_mb=1)
    path = sub / "submission.csv"
    path.write_bytes(b"x" * 600_000)
    settle(w)
    path.write_bytes(b"y" * 600_000)  # would pass 1 MB with the first
    assert settle(w) is None and w.skipped == 1
    path.write_bytes(b"z" * 700_000)
    final = w.look(final=True)
    assert final is not None
    # The final version pushed out the last intermediate one to fit.
    assert [v.bytes for v in w.versions] == [700_000]
    assert w.stored_bytes == 700_000 and sorted(p.name for p in dest.glob("*.csv")) == [final.file]
    assert w.skipped == 2


def test_a_file_over_the_submission_cap_is_never_read(folders):
    sub, dest = folders
    w = watcher(folders, max_file_mb=1)
    path = sub / "submission.csv"
    with path.open("wb") as f:
        f.truncate(10 * 1024**3)  # 10 GB, sparse
    assert settle(w) is None
    assert w.look(final=True) is None
    assert w.skipped == 1 and list(dest.glob("*.csv")) == []


def test_symlinks_fifos_and_folders_are_ignored(folders, tmp_path):
    sub, dest = folders
    secret = tmp_path / "secret"
    secret.write_text("private answers\n")
    w = watcher(folders)
    path = sub / "submission.csv"
    path.symlink_to(secret)
    assert settle(w) is None and w.look(final=True) is None
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block
    assert settle(w) is None and w.look(final=True) is None
    path.unlink()
    path.mkdir()
    assert settle(w) is None
    assert w.versions == [] and w.ignored == 3 and list(dest.glob("*.csv")) == []


def test_a_symlinked_submission_folder_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "submission.csv").write_text("id\n")
    sub = tmp_path / "submission"
    os.symlink(elsewhere, tmp_path / "link")
    sub.mkdir()
    (sub / "submission.csv").symlink_to(elsewhere / "submission.csv")
    w = SubmissionWatcher(sub, tmp_path / "snapshots")
    (tmp_path / "snapshots").mkdir()
    assert settle(w) is None and w.versions == []


def test_reading_large_files_is_paced_to_a_share_of_one_cpu(folders):
    import time

    sub, _ = folders
    w = watcher(folders, copy_share=0.01)
    path = sub / "submission.csv"
    path.write_bytes(b"a" * 20_000_000)
    cpu = time.thread_time()
    assert settle(w) is not None
    cost = time.thread_time() - cpu
    path.write_bytes(b"b" * 20_000_000)
    assert settle(w) is None  # the next read waits for 100 times what the first one cost
    time.sleep(cost * 100 + 0.05)
    assert w.look() is not None
    assert [v.bytes for v in w.versions] == [20_000_000, 20_000_000]


def test_the_thread_records_elapsed_times_and_its_own_cpu(folders):
    import time

    sub, dest = folders
    w = SubmissionWatcher(sub, dest, SnapshotLimits(interval=0.1)).start()
    (sub / "submission.csv").write_text("a\n")
    time.sleep(0.5)
    (sub / "submission.csv").write_text("bb\n")
    time.sleep(0.5)
    summary = w.finish()
    assert [v.bytes for v in w.versions] == [2, 3]
    assert 0.0 <= w.versions[0].elapsed_s < 0.3
    assert 0.4 <= w.versions[1].elapsed_s < 0.8
    assert summary["versions"] == 2 and summary["cpu_seconds"] >= 0
    assert json.loads((dest / "summary.json").read_text()) == summary
    assert len((dest / INDEX).read_text().splitlines()) == 2


# --- grading the snapshots ----------------------------------------------------------------------


class CountingScorer:
    """The real in-process scorer, counting what it is asked to score (one call per path)."""

    def __init__(self):
        self.paths = []

    def __call__(self, path, competition, data_dir):
        from mlepipe.grading.report import score_submission

        self.paths.append(path)
        return score_submission(path, competition, data_dir)


def snapshots_of(tmp_path, contents):
    """A run directory whose watcher saw ``contents`` one after another."""
    run_dir = tmp_path / "run"
    (run_dir / "submission").mkdir(parents=True)
    w = SubmissionWatcher(
        run_dir / "submission", run_dir / "snapshots", SnapshotLimits(copy_share=None)
    )
    (run_dir / "snapshots").mkdir()
    for text in contents:
        (run_dir / "submission" / "submission.csv").write_text(text)
        settle(w)
    w.finish()
    return run_dir


def test_each_distinct_version_is_scored_once_and_the_final_score_is_reused(
    tmp_path, practice_data, registry
):
    import pandas as pd

    from mlepipe.grading.medals import Thresholds
    from mlepipe.grading.report import grade_timeline, score_submission

    comp = registry.get("practice-wine")
    sample = comp.sample_submission_path(practice_data).read_text()
    # The answers as a perfect submission (its probability column as floats).
    perfect = pd.read_csv(comp.answers_path(practice_data)).astype({"class_0": float})
    answers = perfect.to_csv(index=False)
    broken = "not,a\nsubmission\n"
    run_dir = snapshots_of(tmp_path, [sample, broken, sample, answers])
    final = run_dir / "snapshots" / read_index(run_dir)[-1]["file"]
    final_verdicts = score_submission(final, comp, practice_data)
    final_score = final_verdicts["mlebench"]
    scorer = CountingScorer()
    final_sha = hashlib.sha256(answers.encode()).hexdigest()
    thresholds = Thresholds(gold=0.01, silver=0.1, bronze=0.5, median=1.0, lower_is_better=True)
    timeline = grade_timeline(
        run_dir, comp, practice_data, thresholds, scorer, (final_sha, final_verdicts)
    )
    assert len(scorer.paths) == 2  # the sample and the broken file; the final was reused
    direct = score_submission(comp.sample_submission_path(practice_data), comp, practice_data)[
        "mlebench"
    ]
    assert [e["score"] for e in timeline] == [direct[0], None, direct[0], final_score[0]]
    assert [e["valid"] for e in timeline] == [True, False, True, True]
    assert timeline[1]["invalid_reason"]
    assert timeline[-1]["medal"] == "gold" and timeline[-1]["any_medal"]
    assert [e["elapsed_s"] for e in timeline] == sorted(e["elapsed_s"] for e in timeline)


@pytest.mark.sandbox
def test_the_bounded_scorer_scores_every_version_in_one_child(tmp_path, practice_data, registry):
    import shutil

    from mlepipe.bounded_grading import SandboxedScorer
    from mlepipe.grading.report import score_many, score_submission

    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    comp = registry.get("practice-wine")
    sample = comp.sample_submission_path(practice_data).read_text()
    answers = comp.answers_path(practice_data).read_text()
    run_dir = snapshots_of(tmp_path, [sample, "x\n", answers])
    paths = [run_dir / "snapshots" / e["file"] for e in read_index(run_dir)]
    scorer = SandboxedScorer(
        memory_mb=2000, last_memory_mb=2000, seconds=120, sandbox="bubblewrap", run_dir=run_dir
    )
    assert score_many(scorer, paths, comp, practice_data) == [
        score_submission(p, comp, practice_data) for p in paths
    ]
