"""One router per domain of the API.

Each module exposes `router`; the app includes them all.
"""
