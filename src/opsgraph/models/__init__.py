"""Learned models fitted on history: multivariate detectors, autoencoders, graph models and
their versioned registry."""
