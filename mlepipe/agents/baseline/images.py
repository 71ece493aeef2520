"""Images named by a table column (plain files or members of zips), read as features."""

from __future__ import annotations

import io
import logging
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.agents.baseline import CannotModel
from mlepipe.agents.baseline.tables import Table
from mlepipe.agents.contract import Budget

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_INDEXED_FILES = 2_000_000  # stop indexing images beyond this many files
IMAGE_SIDE = 16  # images become IMAGE_SIDE x IMAGE_SIDE grey pixels (+ colour statistics)


@dataclass(frozen=True)
class ImageRef:
    archive: str | None  # zip file holding the image, or None for a plain file
    path: str  # file path, or member name inside the archive


class ImageIndex:
    """Image files under the data folder (plain or inside zips), by file name and by stem."""

    def __init__(self, data_dir: Path):
        self.by_key: dict[str, list[ImageRef]] = {}
        self._zips: dict[str, zipfile.ZipFile] = {}
        count = 0
        for root, dirs, files in os.walk(data_dir):
            dirs.sort()
            for name in sorted(files):
                count += 1
                if count > MAX_INDEXED_FILES:
                    return
                path = os.path.join(root, name)
                if name.lower().endswith(IMAGE_EXTENSIONS):
                    self._add(name, ImageRef(None, path))
                elif name.lower().endswith(".zip") and root == str(data_dir):
                    self._add_zip(path)

    def _add(self, name: str, ref: ImageRef) -> None:
        self.by_key.setdefault(name, []).append(ref)
        stem = name.rsplit(".", 1)[0]
        if stem != name:
            self.by_key.setdefault(stem, []).append(ref)

    def _add_zip(self, path: str) -> None:
        try:
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    if member.lower().endswith(IMAGE_EXTENSIONS):
                        self._add(member.rsplit("/", 1)[-1], ImageRef(path, member))
        except zipfile.BadZipFile:
            log.info("skipping %s: not a readable zip", path)

    def __len__(self) -> int:
        return len(self.by_key)

    def find(self, key: str, part: str) -> ImageRef | None:
        refs = self.by_key.get(key)
        if not refs:
            return None
        # Prefer a file under a folder (or zip) named for the part: train/ for training rows.
        for ref in refs:
            where = (ref.archive or "") + "/" + ref.path
            if re.search(rf"(^|[/\\]){part}[^/\\]*[/\\]", where) or (
                ref.archive and Path(ref.archive).stem.lower().startswith(part)
            ):
                return ref
        return refs[0]

    def open(self, ref: ImageRef):
        from PIL import Image

        if ref.archive is None:
            return Image.open(ref.path)
        zf = self._zips.get(ref.archive)
        if zf is None:
            zf = self._zips[ref.archive] = zipfile.ZipFile(ref.archive)
        return Image.open(io.BytesIO(zf.read(ref.path)))


def image_features(img) -> np.ndarray:
    """Downsampled grey pixels, a colour histogram, channel statistics and the image's shape."""
    from PIL import Image

    width, height = img.size
    side = 4 * IMAGE_SIDE
    if img.format == "JPEG" and max(width, height) > side:
        img.draft("RGB", (side, side))  # decode at reduced size: much faster
    rgb = img.convert("RGB")
    if max(rgb.size) > side:
        rgb = rgb.resize((side, side), Image.Resampling.BILINEAR)
    grey = rgb.convert("L").resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float32).ravel() / 255.0
    counts = np.asarray(rgb.histogram(), dtype=np.float64).reshape(3, 256)
    total = counts[0].sum()
    levels = np.arange(256) / 255.0
    mean = counts @ levels / total
    std = np.sqrt(np.maximum(counts @ levels**2 / total - mean**2, 0.0))
    hist = counts.reshape(3, 8, 32).sum(axis=2).ravel() / total
    shape = [math.log(width), math.log(height), width / height]
    return np.concatenate([pixels, hist, mean, std, shape]).astype(np.float32)


def find_image_column(index: ImageIndex, train: Table, columns: list[str]) -> str | None:
    """The column whose values name image files, if one matches at least 90% of rows."""
    best, best_rate = None, 0.0
    for col in columns:
        values = train.text(col).head(200)
        if values.empty:
            continue
        rate = values.map(lambda v: v in index.by_key).mean()
        if rate > best_rate:
            best, best_rate = col, rate
    return best if best_rate >= 0.9 else None


def read_images(index: ImageIndex, keys: pd.Series, part: str, budget: Budget) -> np.ndarray:
    rows = []
    for key in keys:
        ref = index.find(key, part)
        if ref is None:
            raise CannotModel(f"no image file found for {part} row '{key}'")
        with index.open(ref) as img:
            rows.append(image_features(img))
        if len(rows) % 2000 == 0:
            log.info("read %d %s images (%.0f s)", len(rows), part, budget.elapsed())
    return np.vstack(rows)
