"""The harness: one agent run, from an empty run directory to `run.json`.

- ``runner``: what every runner does (the ``Runner`` steps) and the shared types (Mount, Limits,
  SandboxResult, AgentView, errors); ``runners``: the runners by name;
- ``bubblewrap``, ``host``: the runners ``bubblewrap`` and ``none``;
- ``cgroups``, ``gpus``, ``pyenv``: per-run limits, GPU assignment and device files, the Python
  environment inside a sandbox;
- ``run``: the run directory, what the agent is told, the time limit, and the CLI command
  ``run-agent``; ``records``: run.json; ``submission``: safe extraction of submission.csv;
  ``snapshots``: every distinct version of submission.csv during the run;
  ``agent_files``: the one way files the agent can write are read back; ``guard``: the
  sandbox's first process, which ends it when the harness dies; ``lock``: the run directory's
  lock across nodes; ``slurm``: what the harness and the pipeline ask Slurm.

It may import mlepipe.registry (competitions) and mlepipe.agents.config (agent definitions),
and mlepipe.hardware and mlepipe.cli for the command line; never grading or preparation code:
editing the harness reruns nothing, and no grade depends on it.
"""
