"""Notifications: the event hub every stage publishes to, and what subscribes to it (the
WebSocket, the long-poll, the dispatcher to Alertmanager webhooks, Slack, e-mail and plug-ins).
"""

# Only the hub here: importing notify.settings (the settings assembly does) stays light.

from opsgraph.notify.hub import EventHub, Message

__all__ = ["EventHub", "Message"]
