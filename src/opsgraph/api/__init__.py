"""The HTTP and WebSocket API (FastAPI): one router per domain, served with the dashboard.

The API reads through the runtime and the store and subscribes to the event hub.
"""

from opsgraph.api.app import create_app

__all__ = ["create_app"]
