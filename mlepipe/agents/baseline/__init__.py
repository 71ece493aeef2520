"""A classical machine-learning agent that needs no language model.

It reads a competition's public files and infers the task from the sample submission: columns
also found in the test table identify a row (one or several, e.g. `Date,Comment`), the others must
be predicted. Each target becomes class probabilities (one column per class, named by the values
of a training column), the probability of a 0/1 answer, a label written as in train, or a number.
Features: numbers, one-hot categories, parts of identifier-like text (`B/253/P`), TF-IDF word and
character n-grams of text (JSON lists included), and downsampled pixels and colour statistics of
images named by a column (in folders or zips). Models: seeded linear models, gradient boosting
and random forests, chosen (or blended) on a holdout split, then refitted on all rows. Per-pixel
answers (`<image>_<row>_<col>`) with paired training folders get a per-pixel model instead.

A copy of the sample submission is written before anything else, so a valid file exists even when
modelling fails or time runs out; the log says why the copy was kept. For a given seed and data
the output is the same on every run, unless a model is skipped for lack of time (logged).

Run as `python -m mlepipe.agents.baseline` (`__main__`); configured by the environment (see
`mlepipe.agents.contract.AgentEnv`). Modules, in the order the work goes:

    tables    reading the public tables and the task description
    task      what to predict: id columns and outputs, from the sample submission
    images    image files named by a table column, as features
    features  the feature matrices for linear and tree models
    models    candidate models, chosen or blended on a holdout split
    pixels    per-pixel image tasks (no table)
    solve     a competition's submission from its public files
    main      the run: fallback copy, time budget, validation, the record in the code folder

May import what the agents may (see `mlepipe.agents`); this package holds the errors that end
modelling with the sample submission standing.
"""


class CannotModel(RuntimeError):
    """The data does not fit what this agent can model; the sample submission stands."""


class OutOfTime(RuntimeError):
    """The modelling budget ran out."""
