"""What the pipeline checks and reads before any job starts: `--config` values given as text,
the leaderboard source carried to the jobs, and whether data and thresholds are there."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlepipe.grading.leaderboards import LeaderboardError, LeaderboardSource
from mlepipe.pipeline import coerce_config, data_source_error, experiment_competitions
from mlepipe.schemas import load_schema

SCHEMA = load_schema("experiment")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # As Snakemake's --config hands them over: list items and numbers as text.
        ({"seeds": ["0", "1", "2"]}, {"seeds": [0, 1, 2]}),
        ({"seeds": 3}, {"seeds": [3]}),
        ({"seeds": "0,1"}, {"seeds": [0, 1]}),
        ({"agents": "dummy"}, {"agents": ["dummy"]}),
        (
            {"competitions": ["lite", "spaceship-titanic"]},
            {"competitions": ["lite", "spaceship-titanic"]},
        ),
        ({"submission_cap_mb": "512"}, {"submission_cap_mb": 512}),
        ({"exclude_known_issues": "true"}, {"exclude_known_issues": True}),
        ({"exclude_known_issues": True}, {"exclude_known_issues": True}),
        (
            {"exclude_known_issues": ["invalidates", "caution"]},
            {"exclude_known_issues": ["invalidates", "caution"]},
        ),
        ({"mirror": "null"}, {"mirror": None}),
        ({"mirror": "/data/zips"}, {"mirror": "/data/zips"}),
        ({"leaderboards": "none"}, {"leaderboards": "none"}),
        # Unreadable values stay, for validation to name them.
        ({"seeds": ["zero"]}, {"seeds": ["zero"]}),
    ],
)
def test_config_values_given_as_text_are_read_as_the_schema_says(given, expected):
    assert coerce_config(dict(given), SCHEMA) == expected


def thresholds_table(path: Path, ids: list[str]) -> Path:
    rows = [{"competition_id": c, "gold_threshold": 0.9, "silver_threshold": 0.8,
             "bronze_threshold": 0.7, "median_threshold": 0.5, "is_lower_better": False}
            for c in ids]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_every_source_survives_its_textual_form(tmp_path):
    table = thresholds_table(tmp_path / "t.csv", ["spaceship-titanic"])
    boards = tmp_path / "boards"
    boards.mkdir()
    sources = [
        LeaderboardSource.parse("none"),
        LeaderboardSource.parse(str(table)),
        LeaderboardSource.parse(str(boards)),
        LeaderboardSource.parse({"kind": "thresholds", "path": str(table)}),
        LeaderboardSource.parse(f"kaggle:{tmp_path / 'cache'}"),
        LeaderboardSource.parse("kaggle"),
    ]
    assert [s.kind for s in sources] == [
        "none",
        "thresholds",
        "dir",
        "thresholds",
        "kaggle",
        "kaggle",
    ]
    for source in sources:
        assert LeaderboardSource.parse(str(source)) == source
        assert source.path is None or source.path.is_absolute()


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    thresholds_table(tmp_path / "t.csv", [])
    source = LeaderboardSource.parse("t.csv")
    assert source.path == tmp_path / "t.csv"


@pytest.mark.parametrize("value", ["missing.csv", "dir:/no/such/dir", "thresholds:/no/file.csv"])
def test_a_source_that_is_not_there_is_named(value):
    with pytest.raises(LeaderboardError, match="does not exist"):
        LeaderboardSource.parse(value)


def test_coverage_names_the_competitions_without_thresholds(tmp_path, registry):
    comps = [registry.get(c) for c in ("spaceship-titanic", "leaf-classification", "practice-wine")]
    table = LeaderboardSource.parse(
        str(thresholds_table(tmp_path / "t.csv", ["spaceship-titanic"]))
    )
    assert table.missing(comps) == ["leaf-classification"]  # practice ones need none
    error = table.coverage_error(comps)
    assert "leaf-classification" in error and "spaceship" not in error and str(tmp_path) in error

    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "leaf-classification.csv").write_text("rank,score\n1,0.0\n")
    assert LeaderboardSource.parse(str(boards)).missing(comps) == ["spaceship-titanic"]
    assert LeaderboardSource.parse("none").coverage_error(comps) is None


def test_kaggle_leaderboards_need_credentials_unless_cached(tmp_path, registry, monkeypatch):
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "spaceship-titanic.csv").write_text("rank,score\n1,0.9\n")
    comps = [registry.get(c) for c in ("spaceship-titanic", "leaf-classification")]
    source = LeaderboardSource.parse(f"kaggle:{cache}")
    assert source.missing(comps) == ["leaf-classification"]
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0" * 32)
    assert source.missing(comps) == []


def test_data_check_names_both_ways_out(tmp_path, registry, monkeypatch):
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    comps = [registry.get(c) for c in ("spaceship-titanic", "leaf-classification", "practice-wine")]
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "spaceship-titanic.zip").write_bytes(b"PK")
    error = data_source_error(comps, tmp_path / "data", mirror)
    assert error.startswith("data: 1 competition(s)") and "leaf-classification" in error
    assert "mirror" in error and "kaggle.json" in error
    assert "https://www.kaggle.com/c/leaf-classification/rules" in error
    assert data_source_error(comps[:1], tmp_path / "data", mirror) is None
    # Without a mirror, credentials are the way; practice competitions need neither.
    assert data_source_error(comps[2:], tmp_path / "data", None) is None
    monkeypatch.setenv("KAGGLE_API_TOKEN", "token")
    assert data_source_error(comps, tmp_path / "data", None) is None


def test_exclusion_drops_only_the_severities_named(registry):
    everything = registry.resolve(["all"])
    kept, excluded = experiment_competitions(registry, ["all"], False)
    assert kept == everything and excluded == []
    # Every real competition records some issue, most of them informational: true drops only
    # those whose issues invalidate a medal.
    kept, excluded = experiment_competitions(registry, ["all"], True)
    dropped = {e["competition_id"] for e in excluded}
    assert dropped == {"multi-modal-gesture-recognition", "smartphone-decimeter-2022"}
    assert all(e["reason"].startswith("[invalidates]") for e in excluded)
    assert len(kept) == len(everything) - 2
    kept, excluded = experiment_competitions(registry, ["all"], ["invalidates", "caution"])
    dropped = {e["competition_id"] for e in excluded}
    assert {"multi-modal-gesture-recognition", "hubmap-kidney-segmentation"} <= dropped
    assert "spaceship-titanic" not in dropped and "practice-wine" not in dropped
    assert set(kept) | dropped == set(everything)


def test_severity_defaults_to_info(registry):
    issues = registry.get("spaceship-titanic").known_issues
    assert issues and all(i["severity"] == "info" for i in issues)
