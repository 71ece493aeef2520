"""The reference agents: `dummy` submits the sample submission, `baseline` models the data.

Agents run as the harness runs them: a subprocess configured by the contract's environment
variables. The special data shapes of real competitions (no id column, one-hot classes, several
targets, JSON records, zipped images, per-pixel answers) are covered by small synthetic folders
of the same layout, solved in-process to keep the suite fast.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from mlepipe.agents.baseline.main import PACKAGE_DIR as BASELINE_DIR
from mlepipe.agents.baseline.main import check_shape
from mlepipe.agents.baseline.solve import solve
from mlepipe.agents.baseline.tables import metric_hint, read_sample
from mlepipe.agents.contract import (
    AGENTS_DIR,
    AgentEnv,
    Budget,
    find_sample_submission,
    time_cap,
    write_submission,
)
from mlepipe.grading import checks, scoring

REPO = Path(__file__).resolve().parents[1]
PRACTICE = ["practice-breast-cancer", "practice-wine", "practice-diabetes", "practice-digits"]


def run_agent(agent: str, data: Path, out: Path, *, seed: int = 0, limit: int = 300, **extra):
    """Runs `python -m mlepipe.agents.<agent>` with the contract's environment variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("TIME_LIMIT_SECONDS", "VALIDATE")}
    env.update(
        DATA_DIR=str(data), SUBMISSION_DIR=str(out / "submission"), LOGS_DIR=str(out / "logs"),
        CODE_DIR=str(out / "code"), COMPETITION_ID=data.parent.parent.name, SEED=str(seed),
        TIME_LIMIT_SECONDS=str(limit), CPUS="2", PYTHONPATH=str(REPO), **extra,
    )  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"mlepipe.agents.{agent}"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=limit + 60,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "code" / "summary.json").read_text())
    return out / "submission" / "submission.csv", summary, seconds


def public(practice_data: Path, cid: str) -> Path:
    return practice_data / cid / "prepared" / "public"


def sample_and_answers(practice_data: Path, registry, cid: str):
    comp = registry.get(cid)
    sample = pd.read_csv(comp.sample_submission_path(practice_data))
    answers = scoring.load_answers(comp.answers_path(practice_data))
    return comp, sample, answers


@pytest.fixture(scope="module")
def baseline_runs(practice_data, tmp_path_factory):
    """One baseline run per practice competition (seed 0), shared by the tests below."""
    cache: dict[str, tuple[Path, dict, float]] = {}

    def get(cid: str):
        if cid not in cache:
            out = tmp_path_factory.mktemp(f"baseline-{cid}")
            cache[cid] = run_agent("baseline", public(practice_data, cid), out)
        return cache[cid]

    return get


# --------------------------------------------------------------------------------------------
# Agents as subprocesses on the practice competitions


@pytest.mark.parametrize("cid", PRACTICE)
def test_dummy_submits_the_sample_submission_unchanged(tmp_path, practice_data, registry, cid):
    path, summary, _ = run_agent("dummy", public(practice_data, cid), tmp_path)
    comp = registry.get(cid)
    assert path.read_bytes() == comp.sample_submission_path(practice_data).read_bytes()
    assert summary["agent"] == "dummy"
    assert (tmp_path / "logs" / "dummy.log").is_file()


@pytest.mark.parametrize("cid", PRACTICE)
def test_baseline_submission_is_valid_and_beats_the_sample(
    practice_data, registry, baseline_runs, cid
):
    path, summary, _ = baseline_runs(cid)
    comp, sample, answers = sample_and_answers(practice_data, registry, cid)
    submission = checks.read_csv_submission(path)
    checks.check_against_sample(submission, sample, comp)
    ours = scoring.score_frames(submission, answers, comp)
    floor = scoring.score_frames(sample, answers, comp)
    better = ours < floor if scoring.lower_is_better(comp) else ours > floor
    assert better, f"{cid}: baseline {ours} is not better than the sample's {floor}"
    assert summary["result"] == "model"


def test_baseline_records_its_code_log_and_choices(baseline_runs):
    path, summary, _ = baseline_runs("practice-wine")
    out = path.parent.parent
    for code in [*BASELINE_DIR.glob("*.py"), AGENTS_DIR / "contract.py"]:
        assert (out / "code" / code.relative_to(AGENTS_DIR)).read_text() == code.read_text()
    log = (out / "logs" / "baseline.log").read_text()
    assert "holdout" in log and "chose" in log
    model = summary["models"]["classes[class_0,class_1,class_2]"]
    assert model["chosen"] and model["holdout"]
    assert summary["task"]["id_columns"] == ["id"]


def test_baseline_is_deterministic_for_a_seed(tmp_path, practice_data, baseline_runs):
    first, _, _ = baseline_runs("practice-breast-cancer")
    again, _, _ = run_agent("baseline", public(practice_data, "practice-breast-cancer"), tmp_path)
    assert again.read_bytes() == first.read_bytes()


def test_baseline_finishes_within_a_small_time_limit(tmp_path, practice_data, registry):
    limit = 25
    path, summary, seconds = run_agent(
        "baseline", public(practice_data, "practice-digits"), tmp_path, limit=limit
    )
    assert seconds < limit
    comp, sample, _ = sample_and_answers(practice_data, registry, "practice-digits")
    checks.check_against_sample(checks.read_csv_submission(path), sample, comp)


def test_baseline_out_of_time_keeps_the_sample_submission(tmp_path, practice_data, registry):
    path, summary, _ = run_agent(
        "baseline", public(practice_data, "practice-digits"), tmp_path, limit=1
    )
    comp = registry.get("practice-digits")
    assert path.read_bytes() == comp.sample_submission_path(practice_data).read_bytes()
    assert summary["result"].startswith("sample submission")
    assert "budget" in summary["fallback_reason"]


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_baseline_passes_the_real_validator(tmp_path, practice_data):
    data = public(practice_data, "practice-wine")
    validator = _script(
        tmp_path / "validate",
        f'exec "{sys.executable}" -m mlepipe validate "$1" practice-wine --public-dir "{data}"',
    )
    out = tmp_path / "run"
    out.mkdir()
    _, summary, _ = run_agent("baseline", data, out, VALIDATE=validator)
    assert summary["result"] == "model"


def test_baseline_falls_back_when_the_validator_refuses(tmp_path, practice_data, registry):
    validator = _script(tmp_path / "validate", 'echo "invalid: wrong columns"; exit 1')
    out = tmp_path / "run"
    out.mkdir()
    path, summary, _ = run_agent(
        "baseline", public(practice_data, "practice-wine"), out, VALIDATE=validator
    )
    sample = registry.get("practice-wine").sample_submission_path(practice_data)
    assert path.read_bytes() == sample.read_bytes()
    assert "wrong columns" in summary["fallback_reason"]


def test_baseline_without_a_training_table_keeps_the_sample(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    sample = pd.DataFrame({"id": [1, 2], "y": [0.5, 0.5]})
    sample.to_csv(data / "sample_submission.csv", index=False)
    out = tmp_path / "run"
    out.mkdir()
    path, summary, _ = run_agent("baseline", data, out)
    assert path.read_bytes() == (data / "sample_submission.csv").read_bytes()
    assert "no training table" in summary["fallback_reason"]


def test_agents_without_a_sample_submission_exit_1_with_a_reason(tmp_path):
    for agent in ("dummy", "baseline"):
        env = dict(
            os.environ,
            DATA_DIR=str(tmp_path),
            SUBMISSION_DIR=str(tmp_path / "s"),
            LOGS_DIR=str(tmp_path / "l"),
            CODE_DIR=str(tmp_path / "c"),
            PYTHONPATH=str(REPO),
        )
        done = subprocess.run(
            [sys.executable, "-m", f"mlepipe.agents.{agent}"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1
        assert "no sample submission" in done.stderr


# --------------------------------------------------------------------------------------------
# Special shapes, on small synthetic folders laid out like the real competitions


def solve_folder(data: Path, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    env = AgentEnv.from_environ({"DATA_DIR": str(data), "SEED": str(seed), "CPUS": "1"})
    sample = find_sample_submission(data)
    summary: dict = {}
    with threadpool_limits(limits=1):
        frame = solve(env, read_sample(sample), Budget(None), summary)
    check_shape(frame, read_sample(sample))
    return frame, summary


def auc(truth, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(truth, scores)


def _comments(rng, n):
    nice = [
        "thanks for the helpful answer",
        "i agree with your point here",
        "good game last night",
        "that is an interesting idea",
        "see you at the meeting tomorrow",
    ]
    rude = [
        "you are a stupid idiot",
        "shut up you moron",
        "what an idiot you are really",
        "you dumb loser go away",
        "nobody likes you, idiot",
    ]
    labels = rng.integers(0, 2, n)
    texts = [f'"{(rude if y else nice)[rng.integers(5)]} {rng.integers(1000)}"' for y in labels]
    return labels, texts


def test_insult_shape_ids_are_the_text_columns_and_kept_verbatim(tmp_path):
    """No id column: the sample repeats Date and Comment; Date may be empty, comments repeat."""
    rng = np.random.default_rng(0)
    y, texts = _comments(rng, 300)
    dates = [f"2012060{rng.integers(1, 9)}12000{rng.integers(10)}Z" for _ in texts]
    pd.DataFrame({"Insult": y, "Date": dates, "Comment": texts}).to_csv(
        tmp_path / "train.csv", index=False
    )
    ty, ttexts = _comments(rng, 80)
    tdates = ["" if i % 3 == 0 else d for i, d in enumerate(dates[:80])]
    ttexts[1] = ttexts[0]  # the same comment twice
    pd.DataFrame({"Date": tdates, "Comment": ttexts}).to_csv(tmp_path / "test.csv", index=False)
    sample = pd.DataFrame({"Insult": 0, "Date": tdates, "Comment": ttexts})
    sample.to_csv(tmp_path / "sample_submission_null.csv", index=False)
    (tmp_path / "description.md").write_text("## Evaluation\nArea under the ROC curve.\n")

    frame, summary = solve_folder(tmp_path)
    assert summary["task"]["id_columns"] == ["Date", "Comment"]
    assert summary["task"]["outputs"] == ["binary[Insult]"]
    written = tmp_path / "out.csv"
    write_submission(written, lambda path: frame.to_csv(path, index=False))
    back = pd.read_csv(written, keep_default_na=False)
    assert back["Comment"].tolist() == ttexts and back["Date"].astype(str).tolist() == tdates
    assert back["Insult"].between(0, 1).all() and auc(ty, back["Insult"]) > 0.9


def test_one_hot_classes_from_a_label_column(tmp_path):
    """spooky/leaf: train holds one label column, the sample one probability column per class."""
    rng = np.random.default_rng(1)
    words = {
        "EAP": "raven midnight dreary",
        "HPL": "eldritch cosmic horror",
        "MWS": "monster creator misery",
    }
    authors = rng.choice(list(words), 400)
    text = [f"{words[a]} {rng.integers(100)} the of and" for a in authors]
    ids = [f"id{i:05d}" for i in range(400)]
    pd.DataFrame({"id": ids[:300], "text": text[:300], "author": authors[:300]}).to_csv(
        tmp_path / "train.csv", index=False
    )
    pd.DataFrame({"id": ids[300:], "text": text[300:]}).to_csv(tmp_path / "test.csv", index=False)
    sample = pd.DataFrame({"id": ids[300:], "EAP": 0.4, "HPL": 0.3, "MWS": 0.3})
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)

    frame, summary = solve_folder(tmp_path)
    assert summary["task"]["outputs"] == ["classes[EAP,HPL,MWS]"]
    probs = frame[["EAP", "HPL", "MWS"]].to_numpy(dtype=float)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    truth = pd.get_dummies(pd.Series(authors[300:])).reindex(columns=["EAP", "HPL", "MWS"])
    logloss = -np.mean(np.log((probs * truth.to_numpy()).sum(axis=1)))
    assert logloss < 0.3  # the sample's uniform-ish answer scores about 1.1


def test_several_numeric_targets(tmp_path):
    """nomad2018: two regression targets, each modelled on the shared features."""
    rng = np.random.default_rng(2)
    n = 500
    x = rng.random((n, 3))
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "spacegroup": rng.choice([12, 33, 206], n),
            "a": x[:, 0],
            "b": x[:, 1],
            "c": x[:, 2],
        }
    )
    frame["formation"] = 0.1 + 0.2 * x[:, 0] + 0.01 * rng.random(n)
    frame["bandgap"] = 1 + 3 * x[:, 1] * x[:, 2] + (frame.spacegroup == 33)
    frame.iloc[:400].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[400:].drop(columns=["formation", "bandgap"]).to_csv(
        tmp_path / "test.csv", index=False
    )
    sample = pd.DataFrame({"id": frame.id.iloc[400:], "formation": 0.18, "bandgap": 1.9})
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)

    out, summary = solve_folder(tmp_path)
    assert summary["task"]["outputs"] == ["number[formation]", "number[bandgap]"]
    for col in ("formation", "bandgap"):
        truth = frame[col].iloc[400:].to_numpy()
        ours = math.sqrt(np.mean((out[col].to_numpy(dtype=float) - truth) ** 2))
        floor = math.sqrt(np.mean((sample[col].to_numpy() - truth) ** 2))
        assert ours < floor / 2


def test_json_records_with_text_lists_and_train_only_fields(tmp_path):
    """random-acts-of-pizza: JSON records, a boolean target, a list field, and fields that only
    train has (known after the fact), which must not be used."""
    rng = np.random.default_rng(3)

    def record(i, got):
        return {
            "request_id": f"t3_{i:x}",
            "request_text": "please pizza "
            + ("i will pay it forward thanks" if got else "hungry now")
            + f" {rng.integers(50)}",
            "requester_subreddits": ["pics", "funny"] if got else ["gaming"],
            "requester_account_age": float(rng.integers(1, 900)),
        }

    labels = rng.integers(0, 2, 260).astype(bool)
    records = [record(i, bool(g)) for i, g in enumerate(labels)]
    train = [
        dict(r, requester_received_pizza=bool(g), votes_at_retrieval=int(g) * 5)
        for r, g in zip(records[:200], labels[:200], strict=True)
    ]
    (tmp_path / "train.json").write_text(json.dumps(train, indent=4))
    (tmp_path / "test.json").write_text(json.dumps(records[200:], indent=4))
    pd.DataFrame(
        {"request_id": [r["request_id"] for r in records[200:]], "requester_received_pizza": 0}
    ).to_csv(tmp_path / "sampleSubmission.csv", index=False)
    (tmp_path / "description.md").write_text("## Evaluation\nArea under the ROC curve.\n")

    frame, summary = solve_folder(tmp_path)
    assert summary["task"]["outputs"] == ["binary[requester_received_pizza]"]
    assert "requester_subreddits" in summary["features"]["text"]
    assert "votes_at_retrieval" not in json.dumps(summary["features"])
    assert auc(labels[200:], frame["requester_received_pizza"].astype(float)) > 0.9


def _blob_image(has: bool, rng) -> bytes:
    import io

    from PIL import Image

    arr = rng.integers(60, 120, (32, 32, 3)).astype(np.uint8)
    if has:
        arr[8:24, 12:20] = [40, 200, 40]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG")
    return buf.getvalue()


def test_images_in_zips_named_by_an_id_column(tmp_path):
    """aerial-cactus: train.csv names jpg files held in train.zip and test.zip."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 240)
    names = [f"{i:032x}.jpg" for i in range(240)]
    for part, rows in (("train", range(0, 180)), ("test", range(180, 240))):
        with zipfile.ZipFile(tmp_path / f"{part}.zip", "w") as zf:
            for i in rows:
                zf.writestr(f"{part}/{names[i]}", _blob_image(bool(labels[i]), rng))
    pd.DataFrame({"id": names[:180], "has_cactus": labels[:180]}).to_csv(
        tmp_path / "train.csv", index=False
    )
    pd.DataFrame({"id": names[180:], "has_cactus": 0.5}).to_csv(
        tmp_path / "sample_submission.csv", index=False
    )

    frame, summary = solve_folder(tmp_path)
    assert summary["task"]["image_column"] == "id"
    assert summary["task"]["outputs"] == ["binary[has_cactus]"]
    assert auc(labels[180:], frame["has_cactus"].astype(float)) > 0.95


def test_images_beside_informative_columns_are_dropped_when_they_do_not_help(tmp_path):
    """leaf-classification: precomputed shape features in the table, raw images in images/."""
    from PIL import Image

    rng = np.random.default_rng(7)
    n = 300
    species = rng.choice(["Acer", "Quercus", "Salix"], n)
    centre = {"Acer": 0.0, "Quercus": 2.0, "Salix": 4.0}
    table = pd.DataFrame({"id": np.arange(1, n + 1), "species": species})
    for j in range(5):
        table[f"shape{j}"] = [centre[s] + rng.normal() for s in species]
    (tmp_path / "images").mkdir()
    for i in table.id:  # noise: nothing to learn from the pictures
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(
            tmp_path / "images" / f"{i}.jpg"
        )
    table.iloc[:240].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[240:].drop(columns="species").to_csv(tmp_path / "test.csv", index=False)
    sample = pd.DataFrame(
        {"id": table.id.iloc[240:], "Acer": 1 / 3, "Quercus": 1 / 3, "Salix": 1 / 3}
    )
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)

    _, summary = solve_folder(tmp_path)
    assert summary["features"]["image_features"] > 0
    (model,) = summary["models"].values()
    assert any(name.endswith("without images") for name in model["chosen"])


def test_true_false_labels_and_identifier_parts(tmp_path):
    """spaceship-titanic: a True/False label written as in train; 'Cabin' (deck/num/side) is an
    identifier-like column whose parts become features."""
    rng = np.random.default_rng(5)
    n = 400
    side = rng.choice(["P", "S"], n)
    cabin = [f"{rng.choice(list('ABC'))}/{rng.integers(1000)}/{s}" for s in side]
    target = (side == "P") ^ (rng.random(n) < 0.05)
    frame = pd.DataFrame(
        {
            "PassengerId": [f"{i:04d}_01" for i in range(n)],
            "Cabin": cabin,
            "Age": rng.integers(1, 80, n),
            "Transported": target,
        }
    )
    frame.iloc[:300].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[300:].drop(columns="Transported").to_csv(tmp_path / "test.csv", index=False)
    sample = pd.DataFrame({"PassengerId": frame.PassengerId.iloc[300:], "Transported": False})
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)

    out, summary = solve_folder(tmp_path)
    assert summary["task"]["outputs"] == ["label[Transported]"]
    assert set(out["Transported"]) <= {"True", "False"}
    assert "Cabin[2]" in summary["features"]["categorical"]
    truth = frame.Transported.iloc[300:].astype(str).to_numpy()
    assert (out["Transported"].to_numpy() == truth).mean() > 0.85


def test_per_pixel_answers_learn_a_cleaning_from_paired_folders(tmp_path):
    """denoising-dirty-documents: no table; train/ and train_cleaned/ hold paired images, and the
    sample has one row per test pixel, `<image>_<row>_<col>`."""
    from PIL import Image

    rng = np.random.default_rng(6)

    def page():
        clean = np.full((30, 40), 255, np.uint8)
        for r in range(4, 28, 6):
            clean[r : r + 2, rng.integers(0, 10) : rng.integers(25, 40)] = 30
        stain = (rng.random((30, 40)) * 90).astype(np.uint8)
        return clean, np.clip(clean.astype(int) - stain, 0, 255).astype(np.uint8)

    for d in ("train", "train_cleaned", "test"):
        (tmp_path / d).mkdir()
    for i in range(1, 13):
        clean, noisy = page()
        Image.fromarray(noisy).save(tmp_path / "train" / f"{i}.png")
        Image.fromarray(clean).save(tmp_path / "train_cleaned" / f"{i}.png")
    rows, truth = [], []
    for i in (101, 102):
        clean, noisy = page()
        Image.fromarray(noisy).save(tmp_path / "test" / f"{i}.png")
        for r in range(30):
            for c in range(40):
                rows.append(f"{i}_{r + 1}_{c + 1}")
                truth.append(clean[r, c] / 255)
    pd.DataFrame({"id": rows, "value": 1}).to_csv(tmp_path / "sampleSubmission.csv", index=False)

    frame, summary = solve_folder(tmp_path)
    assert summary["task"]["kind"] == "per-pixel image regression"
    ours = np.sqrt(np.mean((frame["value"].astype(float).to_numpy() - np.array(truth)) ** 2))
    floor = np.sqrt(np.mean((1 - np.array(truth)) ** 2))
    assert frame["id"].tolist() == rows
    assert ours < floor / 2


def test_metric_hint_reads_the_evaluation_section():
    text = "# Task\nAccuracy matters to users.\n\n## Evaluation\nScored by log loss.\n"
    assert metric_hint(text) == "log_loss"
    assert metric_hint("Scored by root mean squared logarithmic error") == "rmsle"
    assert metric_hint("") is None


def test_time_caps_nest_and_the_earliest_fires():
    class Outer(Exception):
        pass

    class Inner(Exception):
        pass

    with pytest.raises(Inner):
        with time_cap(5, Outer()), time_cap(0.05, Inner()):
            time.sleep(1)
    with pytest.raises(Outer):
        with time_cap(0.2, Outer()):
            with time_cap(5, Inner()):
                pass
            time.sleep(1)
