"""Notifications: the event hub every stage publishes to, and its fan-out to subscribers.

The WebSocket endpoint, and later webhooks, Slack and e-mail, subscribe to the hub.
"""

from opsgraph.notify.hub import EventHub, Message

__all__ = ["EventHub", "Message"]
