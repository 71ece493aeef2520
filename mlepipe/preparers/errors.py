"""The errors of preparation: one class for every failure a preparer reports.

A preparer raises `PreparationError` with a message that names the file or column at fault and
what to do about it; the CLI prints that message as one line. `ChecksumMismatch` is the one
kind callers tell apart: prepared files that no longer match the checksums recorded for them.
"""

from __future__ import annotations


class PreparationError(RuntimeError):
    """Raw data that cannot be prepared (missing, truncated, or not in the expected layout)."""


class ChecksumMismatch(PreparationError):
    """Prepared files that differ from the checksums recorded when they were prepared."""
