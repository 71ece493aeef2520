"""The builtin agents and what they share, and the definitions of all agents.

    contract   what every builtin agent shares with the harness: its environment variables,
               logging, the sample submission, the atomic submission write, the validator, the
               record in the code folder, the time budget
    dummy      submits the sample submission unchanged (the score floor)
    baseline/  classical scikit-learn models on tabular, text and simple image features; no LLM
    config     agent definitions (config/agents.yaml) and their versions; read by the pipeline
               and the run harness, never by an agent

Builtin agents run inside the sandbox as `python -m mlepipe.agents.<module>`, and whatever they
import versions them (and reruns their runs when it changes). So `contract`, `dummy` and
`baseline` import only the standard library, numpy, pandas, pyarrow, scipy, scikit-learn (with its
threadpoolctl), pillow, and this package: never the rest of mlepipe. `config` is the exception, on
the harness's side: it may import the rest of the package, and no agent imports it. This file
imports nothing, so that importing any agent loads no more than that agent needs.
"""
