"""Feature matrices: scaled sparse columns for linear models, raw dense ones for tree models."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mlepipe.agents.baseline import CannotModel
from mlepipe.agents.baseline.tables import to_numbers


@dataclass
class Features:
    """A linear-model matrix (scaled, sparse) and a tree-model matrix (dense, raw), for train and
    test rows, plus a description of what went in."""

    linear_train: sparse.csr_matrix
    linear_test: sparse.csr_matrix
    tree_train: np.ndarray | None
    tree_test: np.ndarray | None
    notes: dict[str, Any] = field(default_factory=dict)
    images: tuple[int, int] | None = None  # columns [start, stop) of both matrices from images

    def has_optional_images(self) -> bool:
        """Images next to other informative columns: worth checking whether they help."""
        return self.images is not None and self.notes.get("table_informative", False)

    def without_images(self) -> Features:
        start, stop = self.images
        keep = np.r_[0:start, stop : self.linear_train.shape[1]]
        keep_tree = np.r_[0:start, stop : self.tree_train.shape[1]]
        return Features(
            self.linear_train[:, keep],
            self.linear_test[:, keep],
            self.tree_train[:, keep_tree],
            self.tree_test[:, keep_tree],
            dict(self.notes, image_features=0),
            None,
        )


def _list_text(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def is_text(values: pd.Series) -> bool:
    known = values.dropna().astype(str)
    if known.empty:
        return False
    return known.str.len().mean() >= 20 and known.str.count(r"\s+").mean() >= 2


def _split_parts(values: pd.Series) -> list[pd.Series] | None:
    """Splits identifier-like text such as 'B/253/P' into its parts, if all rows agree."""
    known = values.dropna().astype(str)
    for sep in ("/", "_", "-", ":", " "):
        counts = known.str.count(re.escape(sep))
        if counts.empty or (counts.mode().iloc[0] if len(counts) else 0) == 0:
            continue
        n = int(counts.mode().iloc[0]) + 1
        if 2 <= n <= 4 and (counts == n - 1).mean() >= 0.95:
            parts = values.astype(str).where(values.notna()).str.split(sep, n=n - 1, expand=True)
            return [parts[i] for i in parts.columns]
    return None


def _column_roles(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Types each feature column as numeric, categorical or text (or drops it, with a reason).
    Returns the (possibly extended) frame, the roles and the reasons for dropped columns."""
    roles: dict[str, str] = {}
    dropped: dict[str, str] = {}
    frame = frame.copy()
    for col in list(frame.columns):
        s = frame[col]
        if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple, dict))).any():
            frame[col] = s = s.map(_list_text)
            roles[col] = "text"
            continue
        role = _value_role(s)
        if role == "unique":
            parts = _split_parts(s)
            if parts:
                for i, part in enumerate(parts):
                    name = f"{col}[{i}]"
                    frame[name] = part
                    sub = _value_role(part)
                    if sub == "numeric":
                        frame[name] = pd.to_numeric(part, errors="coerce")
                    if sub in ("numeric", "categorical"):
                        roles[name] = sub
                dropped[col] = "identifier-like; split into parts"
                continue
            dropped[col] = "mostly distinct short values (looks like an identifier)"
            continue
        if role == "constant":
            dropped[col] = "a single value"
            continue
        if role == "numeric" and not pd.api.types.is_numeric_dtype(s):
            frame[col] = to_numbers(s)
        roles[col] = role
    return frame, roles, dropped


def _value_role(s: pd.Series) -> str:
    known = s.dropna()
    if known.nunique() <= 1:
        return "constant"
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return "numeric"
    if to_numbers(known).notna().mean() >= 0.95:
        return "numeric"
    if is_text(known):
        return "text"
    if known.nunique() <= 50 or known.nunique() <= 0.5 * len(known):
        return "categorical"
    return "unique"


def _skewed(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    if len(finite) < 10 or finite.std() == 0:
        return False
    centred = finite - finite.mean()
    return abs((centred**3).mean() / finite.std() ** 3) > 2.0


def build_features(
    train: pd.DataFrame,
    test: pd.DataFrame,
    images: tuple[np.ndarray, np.ndarray] | None,
    memory_mb: int | None,
) -> Features:
    """Fits the transformations on train rows and applies them to both."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    n_train = len(train)
    both, roles, dropped = _column_roles(pd.concat([train, test], ignore_index=True))
    numeric = [c for c, r in roles.items() if r == "numeric"]
    categorical = [c for c, r in roles.items() if r == "categorical"]
    text = [c for c, r in roles.items() if r == "text"]
    notes: dict[str, Any] = {
        "numeric": len(numeric),
        "categorical": categorical,
        "text": text,
        "dropped": dropped,
    }

    # Numbers: raw for trees; imputed, de-skewed and scaled for linear models.
    dense = both[numeric].astype(float).to_numpy() if numeric else np.zeros((len(both), 0))
    for col in text:  # cheap text statistics help tree models too
        s = both[col].fillna("").astype(str)
        dense = np.column_stack([dense, np.log1p(s.str.len()), np.log1p(s.str.count(r"\S+"))])
    image_columns = None
    if images is not None:
        image_columns = (dense.shape[1], dense.shape[1] + images[0].shape[1])
        dense = np.column_stack([dense, np.vstack([images[0], images[1]])])
        notes["image_features"] = images[0].shape[1]
    tree = dense.astype(np.float32) if dense.shape[1] else None

    blocks = []
    if dense.shape[1]:
        lin = dense.astype(float).copy()
        medians = np.nanmedian(np.where(np.isfinite(lin[:n_train]), lin[:n_train], np.nan), axis=0)
        medians = np.nan_to_num(medians)
        missing = ~np.isfinite(lin)
        lin[missing] = np.take(medians, np.nonzero(missing)[1])
        for j in range(lin.shape[1]):
            if _skewed(lin[:n_train, j]):
                lin[:, j] = np.sign(lin[:, j]) * np.log1p(np.abs(lin[:, j]))
        indicators = missing[:, missing[:n_train].any(axis=0)].astype(float)
        scaler = StandardScaler().fit(lin[:n_train])
        blocks.append(sparse.csr_matrix(np.column_stack([scaler.transform(lin), indicators])))

    if categorical:
        cats = both[categorical].astype(str).where(both[categorical].notna(), "<missing>")
        enc = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=3, max_categories=40
        ).fit(cats.iloc[:n_train])
        onehot = enc.transform(cats).tocsr()
        blocks.append(onehot)
        if onehot.shape[1] <= 2000:  # small enough to give tree models as dense columns
            extra = onehot.toarray().astype(np.float32)
            tree = extra if tree is None else np.column_stack([tree, extra])

    # Word and character n-grams of each text column (linear models only).
    # Per text column; a 20k-document corpus then needs a few hundred MB at most.
    budget_features = 200_000 if (memory_mb or 4_000) >= 2_000 else 40_000
    for col in text:
        docs = both[col].fillna("").astype(str)
        total_chars = int(docs.str.len().sum())
        vectorizers = [
            TfidfVectorizer(
                ngram_range=(1, 2),
                min_df=2,
                max_features=budget_features // 2,
                sublinear_tf=True,
                strip_accents="unicode",
                dtype=np.float32,
            )
        ]
        if total_chars <= 40_000_000:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=3,
                    max_features=budget_features // 2,
                    sublinear_tf=True,
                    dtype=np.float32,
                )
            )
        for vec in vectorizers:
            try:
                vec.fit(docs.iloc[:n_train])
            except ValueError:  # empty vocabulary: nothing to learn from this column
                continue
            blocks.append(vec.transform(docs).tocsr())

    if not blocks:
        raise CannotModel("no usable feature columns (and no images) to learn from")
    matrix = sparse.hstack(blocks, format="csr", dtype=np.float32)
    notes["linear_columns"] = matrix.shape[1]
    notes["table_informative"] = bool(numeric or categorical or text)
    notes["tree_informative"] = bool(numeric or categorical or images is not None)
    notes["tree_columns"] = 0 if tree is None else tree.shape[1]
    return Features(
        linear_train=matrix[:n_train],
        linear_test=matrix[n_train:],
        tree_train=None if tree is None else tree[:n_train],
        tree_test=None if tree is None else tree[n_train:],
        notes=notes,
        images=image_columns,
    )
