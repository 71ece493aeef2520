"""Submit a wide CSV that takes the grader far more memory than its size: the sample
submission's rows, each with thousands of extra numeric columns (argv[1]: about that many MB)."""

import csv
import os

mb = int(os.sys.argv[1]) if len(os.sys.argv) > 1 else 300
data, submission = os.environ["DATA_DIR"], os.environ["SUBMISSION_DIR"]
with open(os.path.join(data, "sample_submission.csv"), newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
columns = max(1, mb * 2**20 // (9 * max(1, len(body))))
extra = ",".join(["0.1234567"] * columns)
with open(os.path.join(submission, "submission.csv"), "w") as out:
    out.write(",".join(header) + "," + ",".join(f"x{i}" for i in range(columns)) + "\n")
    for row in body:
        out.write(",".join(row) + "," + extra + "\n")
print(f"wrote {len(body)} rows of {columns} extra columns", flush=True)
