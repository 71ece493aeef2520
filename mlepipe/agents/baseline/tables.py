"""Reading a competition's public files: tables (CSV, JSON, Parquet) with their cells as
written, the sample submission, and the metric the task description names."""

from __future__ import annotations

import json
import logging
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlepipe.agents.baseline import CannotModel

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".csv.zip", ".csv.gz", ".json", ".jsonl", ".json.zip", ".parquet", ".tsv")
BIG_TABLE_BYTES = 500_000_000  # of a training file this large, only the first rows are read


@dataclass
class Table:
    """A table as typed values (`frame`) and, for CSV files, as the exact text of each cell."""

    path: Path
    frame: pd.DataFrame
    raw: pd.DataFrame | None = None

    def text(self, column: str) -> pd.Series:
        """A column's cells as text, the way they are written in the file."""
        if self.raw is not None and column in self.raw.columns:
            return self.raw[column].astype(str)
        return self.frame[column].map(_cell_text)


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def find_table(data_dir: Path, stem: str) -> Path | None:
    for suffix in TABLE_SUFFIXES:
        path = data_dir / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    """The values of a table read as text: numbers, True/False, or text; empty cells are NaN."""
    typed = {}
    for col in raw.columns:
        s = raw[col]
        filled = s != ""
        values = s.where(filled)
        numbers = pd.to_numeric(values, errors="coerce")
        if filled.any() and numbers.notna().sum() == filled.sum():
            typed[col] = numbers
        elif filled.any() and s[filled].isin(["True", "False"]).all():
            flags = values.map({"True": True, "False": False})
            typed[col] = flags.astype(bool) if filled.all() else flags
        else:
            typed[col] = values
    return pd.DataFrame(typed, index=raw.index)


def read_table(path: Path, max_rows: int | None = None) -> Table:
    """Reads a CSV/TSV, JSON, JSON-lines or Parquet table. CSV cells are read once as text (kept
    for ids and labels) and typed from that. Only the first `max_rows` rows of a very large
    file are read."""
    name = path.name.lower()
    nrows = max_rows if max_rows and path.stat().st_size > BIG_TABLE_BYTES else None
    if nrows:
        log.info("%s is large: reading its first %d rows", path.name, nrows)
    if name.endswith((".csv", ".csv.zip", ".csv.gz", ".tsv")):
        sep = "\t" if name.endswith(".tsv") else ","
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, nrows=nrows)
        return Table(path, _typed(raw), raw)
    if name.endswith(".parquet"):
        return Table(path, pd.read_parquet(path))
    if name.endswith(".jsonl"):
        return Table(path, pd.read_json(path, lines=True))
    if name.endswith(".json.zip"):
        with zipfile.ZipFile(path) as zf:
            member = next(n for n in zf.namelist() if n.endswith(".json"))
            data = json.loads(zf.read(member))
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return Table(path, pd.json_normalize(data))
    if isinstance(data, dict):
        return Table(path, pd.DataFrame(data))
    raise CannotModel(f"{path.name} holds JSON that is neither a list of records nor a table")


def read_description(data_dir: Path) -> str:
    for name in ("description.md", "description.txt", "README.md"):
        path = data_dir / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    return ""


# Phrases that name a metric in a task description; earlier in the text wins.
METRIC_PATTERNS = {
    "auc": r"\bauc\b|area under the (?:roc|receiver)|roc curve|\broc\b",
    "log_loss": r"log(?:arithmic)?[- ]?loss|cross[- ]entropy",
    "rmsle": r"\brmsle\b|root mean squared? log",
    "rmse": r"\brmse\b|root mean squared? error",
    "mae": r"\bmae\b|mean absolute error",
    "kappa": r"kappa",
    "f1": r"\bf1\b|f-score|f-measure",
    "accuracy": r"accuracy|classification rate",
}


def metric_hint(description: str) -> str | None:
    """The metric a description names, preferring its evaluation section."""
    text = description.lower()
    section = re.search(r"^#+\s*evaluation\b(.*?)(?=^#+\s|\Z)", text, flags=re.M | re.S)
    for scope in ([section.group(1)] if section else []) + [text]:
        found = []
        for name, pattern in METRIC_PATTERNS.items():
            m = re.search(pattern, scope)
            if m:
                found.append((m.start(), name))
        if found:
            return min(found)[1]
    return None


def read_sample(path: Path) -> pd.DataFrame:
    """The sample submission as text, so that ids are written back exactly as given."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def to_numbers(series: pd.Series) -> pd.Series:
    """Numbers of a column; True/False count as 1/0, anything else unparsable as NaN."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if not pd.api.types.is_numeric_dtype(series):
        lowered = series.map(lambda v: {"true": 1.0, "false": 0.0}.get(str(v).lower(), v))
        return pd.to_numeric(lowered, errors="coerce")
    return pd.to_numeric(series, errors="coerce")
