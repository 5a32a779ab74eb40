"""Domain types of opsgraph: resources, dependencies, samples, anomalies, incidents, events.

This package imports nothing else of opsgraph; every other package builds on it.

Import from the modules (`core.models`, `core.errors`, ...): this package file stays empty so
that importing one of them, `core.errors` say, loads nothing else.
"""
