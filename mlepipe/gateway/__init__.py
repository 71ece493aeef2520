"""The model gateway: an agent's only way out of its sandbox, to the model APIs it is allowed.

    forward.py   runs inside the sandbox before the agent: 127.0.0.1:PORT -> the bound socket
    server.py    the host-side proxy on that socket (aiohttp): token, paths, models, budgets,
                 the real key added on the way out, metering and the exchange log
    metering.py  usage from the API's `usage` fields, prices, budgets (no I/O)
    records.py   the gateway's log, bodies and usage files, written by a thread of their own
    harness.py   what the run harness calls: start, watch and stop the gateway of one run

`forward.py` runs in the agent's Python environment and imports the standard library only.
"""
