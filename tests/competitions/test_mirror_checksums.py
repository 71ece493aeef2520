"""Every competition prepared from its original Kaggle download gives files byte-identical to
MLE-bench's: the MD5s recorded in ../shared/mlebench-reference/checksums/<id>.yaml, and those
shipped in competitions/<id>/reference_checksums.yaml, which preparation checks."""

from __future__ import annotations

import yaml

from mlepipe.prepare import checksums_of


def test_prepared_files_are_byte_identical_to_mlebench(
    mirror_id, mirror, registry, reference_checksums
):
    expected = reference_checksums(mirror_id)
    competition, data = registry.get(mirror_id), mirror.data_dir(mirror_id)
    assert checksums_of(competition.public_dir(data)) == expected["public"]
    assert checksums_of(competition.private_dir(data)) == expected["private"]


def test_recorded_checksums_equal_mlebench_for_the_prepared_files(
    mirror_id, mirror, registry, reference_checksums
):
    expected = reference_checksums(mirror_id)
    data = mirror.data_dir(mirror_id)
    recorded = yaml.safe_load(registry.get(mirror_id).checksums_path(data).read_text())
    assert recorded["public"] == expected["public"]
    assert recorded["private"] == expected["private"]


def test_preparation_verified_the_files_against_the_shipped_checksums(mirror_id, mirror, registry):
    competition = registry.get(mirror_id)
    record = yaml.safe_load(competition.checksums_path(mirror.data_dir(mirror_id)).read_text())
    assert record["reference_check"]["status"] == "verified"
    prepared = {
        f"{side}/{name}": md5
        for side in ("public", "private")
        for name, md5 in record[side].items()
    }
    assert prepared == competition.reference_checksums["prepared"]
