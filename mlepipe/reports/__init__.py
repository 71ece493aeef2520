"""Reports of an experiment, from grade records alone (no run is touched):

- `summary`: aggregates per agent, hardware config and split (medal rates as mean ± SEM over
  seeds over the competitions with known medals, pass@k), and the few lines printed at the end
  of a pipeline run;
- `tables`: the summary and per-competition tables as CSV/Parquet (numbers) and HTML/Markdown
  (for reading, every cell escaped);
- `charts`: Altair charts, HTML with the chart libraries inlined (no network) and SVG.

May import pandas, altair, vl-convert and mlepipe.registry; never the harness, agents,
preparers or grading code (grade records are plain JSON).
"""
