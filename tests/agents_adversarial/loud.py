"""Print MBs of output to stdout and stderr, then submit the sample submission.

argv[1]: MB per stream (default 30).
"""

import os
import shutil
import sys

mb = int(sys.argv[1]) if len(sys.argv) > 1 else 30
line = "x" * 1023 + "\n"
for _ in range(mb * 1024):
    sys.stdout.write(line)
    sys.stderr.write(line)
sys.stdout.flush()
data, submission = os.environ["DATA_DIR"], os.environ["SUBMISSION_DIR"]
shutil.copy(os.path.join(data, "sample_submission.csv"), os.path.join(submission, "submission.csv"))
print("submitted", flush=True)
