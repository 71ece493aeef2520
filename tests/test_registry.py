"""The competition registry: every definition loads, and bad ones fail with a clear message."""

import shutil

import pytest
import yaml

from mlepipe.registry import Registry, RegistryError, UnknownCompetition


def test_every_competition_loads_and_names_a_known_metric(registry):
    from mlepipe.metrics import get_metric

    ids = registry.ids()
    assert len(ids) >= 12
    for comp in registry.all():
        get_metric(comp.metric_name)
        assert comp.description.strip() and comp.description_obfuscated.strip()


def test_obfuscated_descriptions_do_not_mention_kaggle(registry):
    for comp in registry.all():
        text = comp.description_obfuscated.lower()
        assert "kaggle" not in text, comp.id
        assert "leaderboard" not in text, comp.id


def test_practice_competitions_award_no_medals(registry):
    practice = registry.split("practice")
    assert len(practice) >= 3
    for cid in practice:
        comp = registry.get(cid)
        assert comp.practice and not comp.awards_medals and comp.kaggle_slug is None


def test_splits_resolve_with_aliases(registry):
    assert registry.split("lite") == registry.split("low")
    assert set(registry.split("split75")) >= set(registry.split("low"))
    assert registry.resolve(["practice-wine", "practice", "practice-wine"])[0] == "practice-wine"
    assert len(registry.resolve(["practice"])) == len(set(registry.resolve(["practice"])))


def test_unknown_competition_suggests_close_names(registry):
    with pytest.raises(UnknownCompetition, match="Did you mean: practice-wine"):
        registry.get("practice-wne")


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("practise", "practice"), ("lit", "lite"), ("systemcrad", "systemcard"),
     ("practice-wien", "practice-wine"), ("Practice-Wine", "practice-wine")],
)  # fmt: skip
def test_misspelled_split_or_id_gets_the_closest_name(registry, name, suggestion):
    with pytest.raises(UnknownCompetition) as err:
        registry.resolve(["practice-wine", name])
    assert str(err.value) == f"unknown competition or split '{name}'. Did you mean: {suggestion}?"


def test_name_like_nothing_gets_no_suggestion(registry):
    with pytest.raises(UnknownCompetition) as err:
        registry.resolve(["zzzz"])
    assert str(err.value) == "unknown competition or split 'zzzz'."


def test_unknown_split_is_named(registry):
    with pytest.raises(RegistryError, match="unknown split 'huge'"):
        registry.split("huge")


def _copy(tmp_path, registry, edit):
    dest = tmp_path / "competitions"
    shutil.copytree(registry.dir / "practice-wine", dest / "practice-wine")
    path = dest / "practice-wine" / "competition.yaml"
    spec = yaml.safe_load(path.read_text())
    edit(spec)
    path.write_text(yaml.safe_dump(spec))
    return Registry(dest)


def test_malformed_definition_names_the_key(tmp_path, registry):
    reg = _copy(tmp_path, registry, lambda s: s["grading"].update(prediction="maybe"))
    with pytest.raises(RegistryError, match=r"grading.prediction: 'maybe' is not one of"):
        reg.get("practice-wine")


def test_unknown_field_is_refused(tmp_path, registry):
    reg = _copy(tmp_path, registry, lambda s: s.update(colour="blue"))
    with pytest.raises(RegistryError, match="colour"):
        reg.get("practice-wine")


def test_id_must_match_folder(tmp_path, registry):
    reg = _copy(tmp_path, registry, lambda s: s.update(id="other"))
    with pytest.raises(RegistryError, match="differs from its folder"):
        reg.get("practice-wine")


def test_defaults_are_filled(registry):
    spec = registry.get("practice-diabetes").grading
    assert spec["extra_columns"] == "ignore" and spec["rows_sum_to_one"] is False


def test_splits_match_mlebench(registry, shared):
    folder = shared / "mlebench-reference" / "splits"
    for name in ("low", "medium", "high", "split75", "dev", "systemcard"):
        expected = set((folder / f"{name}.txt").read_text().split())
        assert set(registry.split(name)) == expected, name


def test_every_competition_has_a_synthetic_fixture(registry):
    from fixtures import fixture_ids

    missing = [c for c in registry.ids() if not registry.get(c).practice and c not in fixture_ids()]
    assert not missing
