"""Per-pixel tasks: an image in, a cleaned image out, one submission row per pixel
(`<image>_<row>_<col>`)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlepipe.agents.baseline import CannotModel
from mlepipe.agents.baseline.images import IMAGE_EXTENSIONS
from mlepipe.agents.contract import Budget

log = logging.getLogger(__name__)

PIXEL_ID = re.compile(r"^(.+)_(\d+)_(\d+)$")
TARGET_DIR_HINTS = ("clean", "target", "label", "mask", "truth", "gt", "output")


def _image_dirs(data_dir: Path) -> dict[Path, dict[str, Path]]:
    dirs: dict[Path, dict[str, Path]] = {}
    for root, subdirs, files in os.walk(data_dir):
        subdirs.sort()
        images = {
            f.rsplit(".", 1)[0]: Path(root, f)
            for f in sorted(files)
            if f.lower().endswith(IMAGE_EXTENSIONS)
        }
        if images:
            dirs[Path(root)] = images
    return dirs


def looks_like_pixel_task(sample: pd.DataFrame) -> bool:
    if sample.shape[1] != 2 or len(sample) < 1000:
        return False
    head = sample.iloc[:, 0].head(1000).astype(str)
    return bool(head.map(lambda v: PIXEL_ID.match(v) is not None).all())


def _pixel_features(img: np.ndarray) -> np.ndarray:
    """Per-pixel features of a grey image in [0, 1]: the pixel, local means, and its contrast with
    a local background estimate (a local maximum: paper is lighter than ink)."""
    from scipy import ndimage

    mean3 = ndimage.uniform_filter(img, 3)
    mean9 = ndimage.uniform_filter(img, 9)
    sq3 = ndimage.uniform_filter(img * img, 3)
    back9 = ndimage.maximum_filter(img, 9)
    back25 = ndimage.maximum_filter(img, 25)
    low3 = ndimage.minimum_filter(img, 3)
    cols = [
        img,
        mean3,
        mean9,
        np.sqrt(np.maximum(sq3 - mean3**2, 0)),
        back9,
        back25,
        low3,
        img - back9,
        img - back25,
        img / np.maximum(back25, 1e-3),
    ]
    return np.stack([c.ravel() for c in cols], axis=1).astype(np.float32)


def _grey(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _parse_pixel_ids(ids: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Splits `<image>_<row>_<col>` ids: image names, each id's image (an index into the names),
    row and column. Arrow does it in a few seconds for millions of ids, in little memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parts = pc.split_pattern(pa.array(ids.astype(str)), pattern="_", max_splits=2, reverse=True)
        encoded = pc.dictionary_encode(pc.list_element(parts, 0))
        rows = pc.cast(pc.list_element(parts, 1), pa.int64()).to_numpy()
        cols = pc.cast(pc.list_element(parts, 2), pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise CannotModel("pixel ids are not all of the form <image>_<row>_<col>") from None
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(), rows, cols


def solve_pixel_task(
    data_dir: Path, sample: pd.DataFrame, seed: int, budget: Budget, summary: dict
) -> pd.DataFrame:
    """Learns a mapping from each pixel's neighbourhood in a noisy image to the clean pixel, from
    paired training folders (e.g. train/ and train_cleaned/), and predicts every test pixel."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    id_col, value_col = sample.columns
    stems, codes, rows, cols = _parse_pixel_ids(sample[id_col])
    dirs = _image_dirs(data_dir)
    test_dir = max(dirs, key=lambda d: sum(s in dirs[d] for s in stems), default=None)
    if test_dir is None or np.mean([s in dirs[test_dir] for s in stems]) < 0.99:
        raise CannotModel("per-pixel ids, but no folder holds an image for every id prefix")
    pairs = [
        (a, b)
        for a in dirs
        for b in dirs
        if a != b
        and test_dir not in (a, b)
        and len(set(dirs[a]) & set(dirs[b])) >= 0.8 * max(len(dirs[a]), len(dirs[b]))
        and any(h in b.name.lower() for h in TARGET_DIR_HINTS)
    ]
    if not pairs:
        raise CannotModel("per-pixel ids, but no pair of training folders (noisy, clean) found")
    noisy_dir, clean_dir = pairs[0]
    names = sorted(set(dirs[noisy_dir]) & set(dirs[clean_dir]))
    log.info(
        "pixel task: %d training pairs %s -> %s, test images in %s",
        len(names),
        noisy_dir.name,
        clean_dir.name,
        test_dir.name,
    )

    # Pixels of whole images are held out, so the holdout error is honest about new images.
    rng = np.random.default_rng(seed)
    per_image = max(500, 300_000 // max(len(names), 1))
    held = set(names[::10]) if len(names) >= 10 else set()
    xs, ys, hx, hy = [], [], [], []
    for name in names:
        noisy, clean = _grey(dirs[noisy_dir][name]), _grey(dirs[clean_dir][name])
        if noisy.shape != clean.shape:
            continue
        feats = _pixel_features(noisy)
        pick = rng.choice(len(feats), size=min(per_image, len(feats)), replace=False)
        (hx if name in held else xs).append(feats[pick])
        (hy if name in held else ys).append(clean.ravel()[pick])
    if not xs:
        raise CannotModel("no training image pair has matching sizes")
    X, y = np.vstack(xs), np.concatenate(ys)
    model = HistGradientBoostingRegressor(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=31, random_state=seed
    ).fit(X, y)
    report: dict[str, Any] = {"model": "hist_gradient_boosting", "training_pixels": int(len(y))}
    if hx:
        Xh, yh = np.vstack(hx), np.concatenate(hy)
        predicted = np.clip(model.predict(Xh), 0, 1)
        report["holdout_rmse"] = float(np.sqrt(np.mean((predicted - yh) ** 2)))
        report["holdout_rmse_of_noisy_input"] = float(np.sqrt(np.mean((Xh[:, 0] - yh) ** 2)))
        log.info(
            "pixel task: holdout RMSE %.5f on %d unseen images (noisy input as is: %.5f)",
            report["holdout_rmse"],
            len(hx),
            report["holdout_rmse_of_noisy_input"],
        )
    summary["models"] = {f"pixels[{value_col}]": report}

    scale = 255.0 if pd.to_numeric(sample[value_col], errors="coerce").max() > 1.5 else 1.0
    values = np.empty(len(sample), dtype=np.float32)
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(codes, minlength=len(stems)))[:-1])
    for stem, positions in zip(stems, groups, strict=True):
        img = _grey(dirs[test_dir][stem])
        pred = np.clip(model.predict(_pixel_features(img)), 0, 1).reshape(img.shape)
        r, c = rows[positions] - 1, cols[positions] - 1  # ids count from 1
        if min(r.min(), c.min()) < 0 or r.max() >= img.shape[0] or c.max() >= img.shape[1]:
            raise CannotModel(f"pixel ids of '{stem}' fall outside its {img.shape} image")
        values[positions] = pred[r, c] * scale
    out = sample.copy()
    out[value_col] = np.round(values.astype(float), 5)
    return out
