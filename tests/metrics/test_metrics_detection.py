"""Detection metrics on one or two images worked out by hand."""

import pytest

from mlepipe.metrics import MetricInputError, get_metric


def score(name, y_true, y_pred, **params):
    return get_metric(name).fn(y_true, y_pred, **params)


# ---------------------------------------------------------------------------------------------
# siim-covid19-detection


def test_map_boxes_voc_by_hand():
    answers = ["opacity 1 0 0 10 10", "none 1 0 0 1 1"]
    preds = ["opacity 0.9 0 0 10 10", "opacity 0.95 0 0 5 5 none 0.7 0 0 1 1"]
    # class "none": image 1 has neither -> (0, 0); image 2 matches -> (1, 0.7): AP 1
    # class "opacity": (1, 0.9) from image 1, a false (0, 0.95) from image 2; ranked by score
    # the false one comes first: precision 1/2 at recall 1 -> AP 0.5. mean 0.75
    assert score("map_boxes_voc", answers, preds) == pytest.approx(0.75)


def test_map_boxes_voc_needs_iou_strictly_above_the_threshold():
    # IoU of [0,0,10,10] and [0,0,10,5] is exactly 0.5: no match, so pairs (0, .9) and (1, 0)
    assert score("map_boxes_voc", ["a 1 0 0 10 10"], ["a 0.9 0 0 10 5"]) == pytest.approx(0.5)
    assert score("map_boxes_voc", ["a 1 0 0 10 10"], ["a 0.9 0 0 10 10"]) == 1.0


def test_map_boxes_voc_refuses_incomplete_boxes():
    with pytest.raises(MetricInputError, match="6 values per object"):
        score("map_boxes_voc", ["a 1 0 0 10 10"], ["a 0.9 0 0 10"])


# ---------------------------------------------------------------------------------------------
# vinbigdata (pycocotools as MLE-bench calls it)


def test_map_boxes_coco_by_hand_with_the_id_zero_quirk():
    answers = ["0 10 10 20 20 0 30 30 40 40"]
    preds = ["0 0.9 10 10 20 20 0 0.8 30 30 40 40"]
    # both predictions hit their box exactly, but the first true box has annotation id 0,
    # which pycocotools records as "no match": ranked results are (miss, hit).
    # recall (0, 1/2), precision (0, 1/2) -> envelope (1/2, 1/2); the 51 recall points
    # 0, .01, ..., .5 read 1/2, the other 50 read 0: 25.5 / 101
    assert score("map_boxes_coco", answers, preds) == pytest.approx(25.5 / 101)
    # a lone perfect box therefore scores 0 under MLE-bench's grader
    assert score("map_boxes_coco", ["0 10 10 20 20"], ["0 0.9 10 10 20 20"]) == 0.0


def test_map_boxes_coco_ignores_classes_absent_from_the_answers():
    answers = ["0 10 10 20 20 0 30 30 40 40"]
    preds = ["0 0.9 10 10 20 20 14 1.0 0 0 1 1 0 0.8 30 30 40 40"]
    assert score("map_boxes_coco", answers, preds) == pytest.approx(25.5 / 101)
    assert score("map_boxes_coco", answers, [""]) == 0.0


def test_map_boxes_coco_numbers_predictions_from_the_first_submitted_row():
    # image 0: one box (answer id 0, so any match of it counts as a miss); image 1: one box
    # predicted twice. Predicted box 0 looks unmatched to pycocotools, so its true box can be
    # matched a second time.
    answers = ["0 10 10 20 20", "0 30 30 40 40"]
    preds = ["0 0.7 10 10 20 20", "0 0.9 30 30 40 40 0 0.8 30 30 40 40"]
    # row 0 first: ranked (hit .9, repeat .8 = miss, miss .7): precision 1 up to recall 1/2
    assert score("map_boxes_coco", answers, preds) == pytest.approx(51 / 101)
    # row 1 first: its .9 box is id 0, so the .8 box matches again: (hit, hit, miss) -> 1
    assert score("map_boxes_coco", answers, preds, first_predicted_row=1) == 1.0
    with pytest.raises(MetricInputError, match="out of range"):
        score("map_boxes_coco", answers, preds, first_predicted_row=2)


# ---------------------------------------------------------------------------------------------
# 3d-object-detection-for-autonomous-vehicles


def car(conf, x, yaw=0.0, name="car"):
    # a 2 (width) x 4 (length) x 2 (height) box centred at (x, 0, 0)
    return f"{conf} {x} 0 0 2 4 2 {yaw} {name}"


def test_map_boxes_3d_by_hand():
    # identical boxes: IoU 1 beats every threshold -> 1
    assert score("map_boxes_3d", [car(1, 0)], [car(0.9, 0)]) == 1.0
    # shifted 1 m along its length: overlap 3 x 2 x 2 = 12, union 16 + 16 - 12 = 20: IoU 0.6
    # beats 0.5 and 0.55 (not 0.6) -> AP 1 at 2 of 10 thresholds -> 0.2
    assert score("map_boxes_3d", [car(1, 0)], [car(0.9, 1)]) == pytest.approx(0.2)
    # turned 90 degrees: overlap 2 x 2 x 2 = 8, union 24 -> 1/3: no threshold
    assert score("map_boxes_3d", [car(1, 0)], [car(0.9, 0, yaw=1.5707963267948966)]) == 0.0


def test_map_boxes_3d_ranks_by_confidence_and_ignores_unknown_classes():
    # a false car ranked above the true one: recall (0, 1), precision (0, 1/2) -> AP 0.5
    preds = " ".join([car(0.9, 50), car(0.5, 0), car(0.99, 0, name="bus")])
    assert score("map_boxes_3d", [car(1, 0)], [preds]) == pytest.approx(0.5)


def test_map_boxes_3d_refuses_an_answer_without_objects_and_bad_sizes():
    with pytest.raises(MetricInputError, match="no object"):
        score("map_boxes_3d", [""], [car(0.9, 0)])
    with pytest.raises(MetricInputError, match="positive"):
        score("map_boxes_3d", [car(1, 0)], ["0.9 0 0 0 0 4 2 0 car"])


# ---------------------------------------------------------------------------------------------
# kuzushiji-recognition


def test_f1_point_in_box_by_hand():
    answers = ["U+1 0 0 10 10 U+2 20 20 5 5", "U+1 0 0 10 10"]
    preds = ["U+1 5 5 U+2 21 21 U+3 1 1", float("nan")]
    # page 1: both boxes get their point (TP 2), the U+3 point is left over (FP 1)
    # page 2: nothing predicted (FN 1). P = R = 2/3 -> F1 = 2/3
    assert score("f1_point_in_box", answers, preds) == pytest.approx(2 / 3)


def test_f1_point_in_box_needs_points_strictly_inside_and_the_same_label():
    assert score("f1_point_in_box", ["U+1 0 0 10 10"], ["U+1 0 5"]) == 0.0  # on the edge
    assert score("f1_point_in_box", ["U+1 0 0 10 10"], ["U+2 5 5"]) == 0.0
    assert score("f1_point_in_box", ["U+1 0 0 10 10"], ["U+1 5 5"]) == 1.0
