"""Graph detectors: GraphSAGE over the dependency graph (supervised), a neighbourhood-deviation
model (self-supervised), their features, registry of trained models and explanations."""
