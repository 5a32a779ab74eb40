"""Sources of samples and topology: one module per kind (files and YAML topologies now;
Prometheus, CloudWatch and HTTP push come with the service issue, AWS discovery with the graph
issue)."""
