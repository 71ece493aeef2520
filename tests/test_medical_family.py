"""Facts about the medical-imaging / segmentation family of competitions that differ from, or are
easy to get wrong in, MLE-bench's graders; on synthetic raw data (tests/fixtures/<id>.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fixtures import FixtureSource, load
from mlepipe.grading.checks import InvalidSubmission
from mlepipe.grading.scoring import load_answers, score_frames
from mlepipe.prepare import prepare
from mlepipe.preparers.medical import rle_encode


def _prepared(registry, tmp_path_factory, cid):
    comp = registry.get(cid)
    data = tmp_path_factory.mktemp(cid[:30])
    prepare(comp, data, FixtureSource(load(cid)), verify_reference=False)
    return comp, data, load_answers(comp.answers_path(data))


def test_rle_encode_numbers_pixels_down_columns_from_one():
    mask = np.array([[0, 1], [1, 1], [0, 0]])
    assert rle_encode(mask) == [2, 1, 4, 2]
    assert rle_encode(np.zeros((3, 2))) == []


def test_osic_submission_missing_a_scored_week_is_invalid(registry, tmp_path_factory):
    comp, _, answers = _prepared(registry, tmp_path_factory, "osic-pulmonary-fibrosis-progression")
    sub = answers[["Patient_Week"]].assign(FVC=answers["FVC"], Confidence=70.0)
    scored = comp.grade_module.scored_rows(answers)
    with pytest.raises(InvalidSubmission):
        score_frames(sub[~scored].reset_index(drop=True), answers, comp)
    # Unscored weeks may stay empty; an empty confidence is raised to the floor of 70.
    sub.loc[scored, "Confidence"] = np.nan
    assert score_frames(sub, answers, comp) == pytest.approx(-np.log(np.sqrt(2) * 70))


def test_uw_madison_rows_are_matched_by_id_and_class_not_position(registry, tmp_path_factory):
    comp, _, answers = _prepared(
        registry, tmp_path_factory, "uw-madison-gi-tract-image-segmentation"
    )
    sub = answers[["id", "class", "predicted"]].sample(frac=1, random_state=0)
    assert score_frames(sub, answers, comp) == pytest.approx(1.0)


def test_hubmap_test_images_come_without_their_glomerulus_polygons(registry, tmp_path_factory):
    comp, data, answers = _prepared(registry, tmp_path_factory, "hubmap-kidney-segmentation")
    test_dir = comp.public_dir(data) / "test"
    for image in answers["id"]:
        assert (test_dir / f"{image}.tiff").is_file()
        assert (test_dir / f"{image}-anatomical-structure.json").is_file()
        assert not (test_dir / f"{image}.json").exists()


def test_h_and_m_article_ids_score_the_same_with_or_without_leading_zeros(
    registry, tmp_path_factory
):
    comp, data, answers = _prepared(
        registry, tmp_path_factory, "h-and-m-personalized-fashion-recommendations"
    )
    padded = [" ".join(t.zfill(10) for t in str(p).split()) for p in answers["prediction"]]
    plain = answers[["customer_id", "prediction"]].astype({"prediction": str})
    assert score_frames(plain, answers, comp) == score_frames(
        plain.assign(prediction=padded), answers, comp
    )
    # Customers without purchases in the test week may be left out or added.
    sample = pd.read_csv(comp.sample_submission_path(data))
    extra = sample[~sample["customer_id"].isin(answers["customer_id"])]
    assert score_frames(pd.concat([plain, extra]), answers, comp) == pytest.approx(1.0)
    with pytest.raises(InvalidSubmission):
        score_frames(plain.iloc[1:], answers, comp)


def test_contrails_empty_cells_are_refused_with_the_empty_mask_marker(registry, tmp_path_factory):
    comp, _, answers = _prepared(
        registry, tmp_path_factory, "google-research-identify-contrails-reduce-global-warming"
    )
    sub = answers[["record_id", "encoded_pixels"]].copy()
    sub.loc[sub.index[0], "encoded_pixels"] = np.nan
    with pytest.raises(InvalidSubmission, match="'-'"):
        score_frames(sub, answers, comp)


def test_breast_all_zero_predictions_score_zero(registry, tmp_path_factory):
    comp, _, answers = _prepared(registry, tmp_path_factory, "rsna-breast-cancer-detection")
    assert score_frames(answers.assign(cancer=0.0), answers, comp) == 0.0
