"""Logs: parsing into templates, log features per resource and time bucket, and log anomaly
scores."""
