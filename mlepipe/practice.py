"""Practice competitions: raw data built from datasets that ship inside scikit-learn, so that the
default experiment needs no Kaggle account and no network. They award no medals.

The raw zip imitates a Kaggle download (a labelled `train.csv`, images in a folder), so practice
competitions go through the same preparation, grading and reporting code as real ones.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

from mlepipe.preparers.archives import FIXED_DATE_TIME, member_info
from mlepipe.registry import Competition

# Loaders that read files bundled with scikit-learn (never a download).
BUNDLED = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "diabetes": datasets.load_diabetes,
    "digits": datasets.load_digits,
}


def _table(name: str) -> tuple[pd.DataFrame, object]:
    if name not in BUNDLED:
        raise ValueError(f"practice dataset '{name}' is not one of {sorted(BUNDLED)}")
    bunch = BUNDLED[name]()
    features = pd.DataFrame(bunch.data, columns=[_column(c) for c in bunch.feature_names])
    features.insert(0, "id", np.arange(len(features)))
    return features, bunch


def _column(name: str) -> str:
    return str(name).strip().replace(" ", "_").replace("(", "").replace(")", "").replace("/", "_")


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    img = Image.fromarray(pixels.astype(np.uint8), mode="L")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False)
    return out.getvalue()


def build_zip(competition: Competition, dest: Path) -> str:
    """Writes `<id>.zip` for a practice competition (deterministic bytes); returns its MD5."""
    dataset = competition.source["dataset"]
    features, bunch = _table(dataset)
    entries: list[tuple[str, bytes]] = []
    if dataset == "digits":
        # 8x8 images with intensities 0..16, scaled to 0..255 grey levels.
        labels = pd.DataFrame({"id": features["id"], "label": bunch.target})
        entries.append(("train.csv", labels.to_csv(index=False).encode()))
        for ident, image in zip(features["id"], bunch.images, strict=True):
            entries.append((f"images/{ident}.png", _png(np.round(image * 255 / 16))))
    else:
        table = features.copy()
        if dataset == "diabetes":
            table["target"] = bunch.target
        elif dataset == "breast_cancer":
            table["malignant"] = (bunch.target == 0).astype(int)  # sklearn codes malignant as 0
        else:
            table["target"] = [str(bunch.target_names[t]) for t in bunch.target]
        entries.append(("train.csv", table.to_csv(index=False, float_format="%.6g").encode()))

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in entries:
            # 0o600 (zipfile's default, not 0o644): the bytes, so the MD5, practice zips always had.
            zf.writestr(member_info(name, FIXED_DATE_TIME, mode=0o600), data)
    tmp.replace(dest)
    return hashlib.md5(dest.read_bytes()).hexdigest()
