"""`python -m mlepipe.agents.baseline`: runs the baseline agent (see `main`)."""

import sys

from mlepipe.agents.baseline.main import main

if __name__ == "__main__":
    sys.exit(main())
