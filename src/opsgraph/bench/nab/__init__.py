"""The Numenta Anomaly Benchmark: corpus loading, our implementation of its scoring rules, and
the run of any opsgraph detector over the whole corpus (`opsgraph bench nab`)."""
