"""Automated remediation: policies, the actions catalog, executors, guardrails, approval,
verification and audit. Submodules are imported where used (config imports `act.settings`).
"""
