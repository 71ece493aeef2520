"""The errors of preparation: one class for every failure a preparer reports.

A preparer raises `PreparationError` with a message that names the file or column at fault and
what to do about it; the CLI prints that message as one line. Two kinds callers tell apart:
`ChecksumMismatch`, prepared files that no longer match the checksums recorded for them, and
`ReferenceMismatch`, a new preparation whose files differ from the MD5s MLE-bench publishes.
"""

from __future__ import annotations


class PreparationError(RuntimeError):
    """Raw data that cannot be prepared (missing, truncated, or not in the expected layout)."""


class ChecksumMismatch(PreparationError):
    """Prepared files that differ from the checksums recorded when they were prepared."""


class ReferenceMismatch(PreparationError):
    """Freshly prepared files that differ from MLE-bench's published MD5s for them."""
