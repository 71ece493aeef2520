"""The command line as a user meets it: real processes, real pipes, real preparations that fail."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MLEPIPE = [sys.executable, "-m", "mlepipe"]
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a tool that SIGPIPE ended


def _mlepipe(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*MLEPIPE, *args], capture_output=True, text=True, timeout=300, **kwargs)


def _one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single `mlepipe: error:` line of a failed command (progress lines may precede it)."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("mlepipe: error: ")]
    assert len(errors) == 1 and done.stderr.splitlines()[-1] == errors[0], done.stderr
    return errors[0]


# --- a reader that goes away ------------------------------------------------------------------


@pytest.mark.parametrize("args", [["list"], ["list", "-l"]])
def test_closed_pipe_ends_the_listing_quietly(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run(
            [*MLEPIPE, *args], stdout=write_end, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write_end)
    stderr = proc.stderr.decode()
    assert proc.returncode == BROKEN_PIPE, stderr
    assert stderr == ""


def test_list_into_head_prints_the_first_line_only():
    # As a user types it; the listing is unbuffered so that head exits while it still writes.
    done = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" list -l | head -1', "bash", *MLEPIPE],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert done.stderr == "" and len(done.stdout.splitlines()) == 1
    assert done.returncode in (0, BROKEN_PIPE)


def test_only_a_closed_stdout_counts_as_a_reader_gone():
    from mlepipe.cli import _reader_gone

    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        assert not _reader_gone(stream)  # the reader is still there: a broken pipe is an error
        os.close(read_end)
        assert _reader_gone(stream)


# --- preparation errors -------------------------------------------------------------------------


def _mirror(tmp_path: Path, competition_id: str, members: dict[str, str]) -> Path:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / f"{competition_id}.zip", "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return mirror


def test_table_without_a_label_column_fails_in_one_line(tmp_path):
    # tables.holdout needs EC1..EC6; this train.csv lacks EC1.
    train = io.StringIO()
    train.write("id,feature,EC2,EC3,EC4,EC5,EC6\n")
    for i in range(20):
        train.write(f"{i},{i * 0.5},{i % 2},0,1,0,1\n")
    mirror = _mirror(tmp_path, "playground-series-s3e18", {"train.csv": train.getvalue()})
    done = _mlepipe(
        "prepare", "playground-series-s3e18", "--mirror", str(mirror),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    line = _one_error_line(done)
    assert "missing column(s) ['EC1']" in line, line


def test_collection_without_its_metadata_fails_in_one_line(tmp_path):
    # The herbarium split reads nybg2020/train/metadata.json, which this zip lacks.
    mirror = _mirror(tmp_path, "herbarium-2020-fgvc7", {"nybg2020/train/readme.txt": "images\n"})
    done = _mlepipe(
        "prepare", "herbarium-2020-fgvc7", "--mirror", str(mirror),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    line = _one_error_line(done)
    assert "metadata.json is missing" in line, line


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("lit", "lite"), ("practise", "practice"), ("practice-wien", "practice-wine")],
)
def test_misspelled_name_gets_a_suggestion(name, suggestion):
    line = _one_error_line(_mlepipe("list", name))
    assert (
        line
        == f"mlepipe: error: unknown competition or split '{name}'. Did you mean: {suggestion}?"
    )


def test_a_missing_sandbox_is_one_line_not_a_traceback(tmp_path, practice_data):
    # PATH without bubblewrap: the harness cannot sandbox and says so, exit code 2.
    done = _mlepipe(
        "run-agent", "--agent", "dummy", "--hardware", "cpu-small",
        "--competition", "practice-wine", "--seed", "0", "--data-dir", str(practice_data),
        "--run-dir", str(tmp_path / "run"), "--sandbox", "bubblewrap",
        "--agents-file", str(REPO / "config/agents.yaml"),
        "--hardware-file", str(REPO / "config/hardware.yaml"),
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "bubblewrap" in _one_error_line(done)


@pytest.fixture(scope="module")
def spaceship_data(tmp_path_factory, registry) -> Path:
    """spaceship-titanic prepared from the Kaggle mirror beside the checkout, else its fixture."""
    data = tmp_path_factory.mktemp("spaceship")
    mirror = Path("/work/shared/kaggle-mirror")
    if (mirror / "spaceship-titanic.zip").is_file():
        done = _mlepipe(
            "prepare", "spaceship-titanic", "--mirror", str(mirror), "--data-dir", str(data)
        )
        assert done.returncode == 0, done.stderr
    else:
        from fixtures import FixtureSource, load
        from mlepipe.prepare import prepare

        comp = registry.get("spaceship-titanic")
        prepare(comp, data, FixtureSource(load("spaceship-titanic")), verify_reference=False)
    return data


@pytest.mark.parametrize(
    ("label", "valid"), [("yes", False), ("True", True), ("False", True), ("1", True)]
)
def test_validate_and_grade_agree_on_spaceship_labels(spaceship_data, tmp_path, label, valid):
    import json

    import pandas as pd

    sample = pd.read_csv(spaceship_data / "spaceship-titanic/prepared/public/sample_submission.csv")
    submission = tmp_path / "submission.csv"
    sample.assign(Transported=label).to_csv(submission, index=False)
    data = ["--data-dir", str(spaceship_data)]
    validated = _mlepipe("validate", str(submission), "spaceship-titanic", *data)
    graded = _mlepipe("grade-sample", str(submission), "spaceship-titanic", *data)
    assert graded.returncode == 0, graded.stderr
    assert validated.returncode == (0 if valid else 1), validated.stdout
    report = json.loads(graded.stdout)
    assert report["valid_submission"] is valid, report
    if not valid:
        assert "'yes'" in validated.stdout and "'yes'" in report["invalid_reason"]


@pytest.fixture(scope="module")
def salt_data(tmp_path_factory, registry) -> Path:
    """tgs-salt-identification-challenge (run-length encoded masks) prepared from its fixture."""
    from fixtures import FixtureSource, load
    from mlepipe.prepare import prepare

    data = tmp_path_factory.mktemp("salt")
    comp = registry.get("tgs-salt-identification-challenge")
    prepare(comp, data, FixtureSource(load(comp.id)), verify_reference=False)
    return data


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        (None, None),  # the answers' own masks
        ("1 2 5", "predicted mask 0 has an odd number of values; RLE needs start/length pairs"),
        ("5 1 1 1", "predicted mask 0: RLE runs must be sorted by start"),
        ("1 3 2 1", "predicted mask 0: RLE runs overlap"),
        ("1;2", "predicted mask 0 is not a run-length encoding: '1;2'"),
    ],
)
def test_validate_reads_masks_as_the_grader_does(salt_data, tmp_path, mask, reason):
    # Inside the sandbox the validator sees only the public folder; a mask the metric cannot
    # read is refused there with the reason the grader gives.
    import json

    import pandas as pd

    competition = "tgs-salt-identification-challenge"
    prepared = salt_data / competition / "prepared"
    submission = pd.read_csv(prepared / "private" / "test.csv")
    if mask is not None:
        submission.loc[0, "rle_mask"] = mask
    path = tmp_path / "submission.csv"
    submission.to_csv(path, index=False)
    validated = _mlepipe(
        "validate", str(path), competition, "--public-dir", str(prepared / "public")
    )
    graded = _mlepipe("grade-sample", str(path), competition, "--data-dir", str(salt_data))
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    if reason is None:
        assert validated.returncode == 0, validated.stdout
        assert report["valid_submission"] and report["score"] == 1.0, report
    else:
        assert validated.returncode == 1 and validated.stdout.strip() == f"invalid: {reason}"
        assert not report["valid_submission"] and report["invalid_reason"] == reason


def test_validate_of_masks_imports_no_metric_library(salt_data, tmp_path):
    # The validator starts inside the sandbox for every check an agent makes: reading masks
    # needs neither scikit-learn nor scipy.
    competition = "tgs-salt-identification-challenge"
    public = salt_data / competition / "prepared" / "public"
    code = (
        "import sys; from mlepipe.cli import main; "
        f"code = main(['validate', {str(public / 'sample_submission.csv')!r}, {competition!r}, "
        f"'--public-dir', {str(public)!r}]); "
        "print(code, sorted({'sklearn', 'scipy', 'mlepipe.metrics'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout
