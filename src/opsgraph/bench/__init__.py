"""Benchmark harnesses behind `opsgraph bench ...`.

Each returns a JSON-able report with the figures and the settings that produced them.
"""
