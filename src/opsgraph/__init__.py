"""opsgraph: AIOps for a cloud estate seen as a graph of resources.

Detects anomalies, explains them on the dependency graph, and acts under guardrails.
"""

__version__ = "0.1.0"
