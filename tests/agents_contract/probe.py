"""A command agent that reports what it was given (usage: probe.py DATA_DIR --logs=LOGS_DIR).

It prints its environment, submits the sample submission, runs the validator, and writes to
$CODE_DIR/given.json every path it was told of (environment, command line, working directory,
instructions, validator) and which of them do not exist from where it runs.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PATH_VARIABLES = (
    "DATA_DIR", "SUBMISSION_DIR", "LOGS_DIR", "CODE_DIR", "VALIDATE", "INSTRUCTIONS",
    "MLEPIPE_COMPETITIONS_DIR",
)  # fmt: skip


def absolute_paths(text: str) -> list[str]:
    return [p.rstrip(".:,;") for p in re.findall(r"(?<![\w.])/[^\s`'\"}]+", text)]


def main() -> None:
    print(json.dumps(dict(os.environ), indent=1, sort_keys=True))
    data, logs = sys.argv[1], sys.argv[2].partition("=")[2]
    given = {
        "cwd": os.getcwd(),
        "argv": sys.argv[1:],
        "env": {name: os.environ[name] for name in PATH_VARIABLES},
        "pythonpath": os.environ["PYTHONPATH"].split(":"),
    }
    submission = Path(os.environ["SUBMISSION_DIR"]) / "submission.csv"
    shutil.copyfile(Path(os.environ["DATA_DIR"]) / "sample_submission.csv", submission)
    # Read after submitting, so that the submission path they name exists too.
    given["instructions"] = absolute_paths(Path(os.environ["INSTRUCTIONS"]).read_text())
    given["validate"] = absolute_paths(Path(os.environ["VALIDATE"]).read_text())
    paths = [given["cwd"], data, logs, *given["env"].values(), *given["pythonpath"]]
    paths += given["instructions"] + given["validate"]
    given["missing"] = [p for p in paths if not os.path.exists(p)]
    given["data_has_description"] = (Path(data) / "description.md").is_file()
    done = subprocess.run([os.environ["VALIDATE"]], capture_output=True, text=True)
    given["validator"] = {"returncode": done.returncode, "output": done.stdout + done.stderr}
    Path(os.environ["CODE_DIR"], "given.json").write_text(json.dumps(given, indent=1))


if __name__ == "__main__":
    main()
