"""The command line: one module per command group; `main` assembles them (see `opsgraph --help`).

Command modules import their heavy work inside the commands, so `opsgraph --help` stays fast.
"""
