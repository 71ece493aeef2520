"""Report tables from grade records alone (Snakemake script): per competition and summary, as
CSV, Parquet, Markdown and HTML, and per MLE-bench category (mlepipe.reports.tables)."""

import sys

from mlepipe.reports.stats import Bootstrap
from mlepipe.reports.tables import write_tables_from_files

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")

settings = sm.params.get("settings", {"missing_seeds": "pad", "bootstrap": {}})
tables = write_tables_from_files(
    sm.input.grades,
    dict(sm.output.items()),
    sm.params.excluded,
    settings["missing_seeds"],
    Bootstrap.from_config(settings["bootstrap"]),
)
print(
    f"{len(tables['per_competition'])} grades -> {len(tables['summary'])} summary rows",
    file=sys.stderr,
)
