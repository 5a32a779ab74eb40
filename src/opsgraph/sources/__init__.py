"""Sources of samples and topology: one module per kind (files now; Prometheus, CloudWatch and
HTTP push come with the service issue)."""
