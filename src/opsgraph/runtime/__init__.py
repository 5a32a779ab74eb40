"""The one composition root: settings assembled from every package's section, and the services
of one opsgraph process wired together (see docs/architecture.md)."""
