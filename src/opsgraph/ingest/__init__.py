"""Ingest: the hot loop that takes samples from every source through detection into the store
(`stream`), and the same path over a file or a stored history (`offline`: score, backtest)."""
