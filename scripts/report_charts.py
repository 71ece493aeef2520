"""Charts from the report tables (Snakemake script): medal rate by agent and split with
standard-error bars, medal rate against cost per run, and each competition's scores against its
medal thresholds (mlepipe.reports.charts)."""

import sys

import pandas as pd

from mlepipe.reports.charts import write_charts

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")

write_charts(
    pd.read_parquet(sm.input.summary),
    pd.read_parquet(sm.input.per_competition),
    dict(sm.output.items()),
)
