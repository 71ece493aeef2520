"""Safe extraction of the agent's submission from its writable submission folder.

The folder is the agent's: only a regular, small enough UTF-8 file is copied out, read through
`agent_files.read_agent_file` (nothing followed, no fifo opened, bounded).
"""

from __future__ import annotations

from pathlib import Path

from mlepipe.harness.agent_files import AgentFileRejected, read_agent_file

DEFAULT_SUBMISSION_CAP_MB = 1024


def extract_submission(src_dir: Path, dest: Path, max_bytes: int) -> tuple[bool, str | None]:
    """Copies `src_dir/submission.csv` to `dest` if it is a regular, small enough UTF-8 file.

    Returns (found, rejection reason). Never follows a symlink, never opens a fifo or device.
    """
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        data = read_agent_file(src_dir / "submission.csv", max_bytes)
    except FileNotFoundError:
        return False, "the agent wrote no submission.csv"
    except AgentFileRejected as exc:
        return True, str(exc)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return True, f"submission.csv is not UTF-8 text (byte {exc.start})"
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return True, None
