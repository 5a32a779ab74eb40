"""Which pull sources a process runs: built from the `sources` section of the configuration."""

from __future__ import annotations

from opsgraph.core.errors import ConfigError, InvalidInputError
from opsgraph.sources.pull import PullSource
from opsgraph.sources.settings import SourcesSettings


def build_pull_sources(settings: SourcesSettings) -> list[PullSource]:
    """The configured pollers, in a stable order (none by default)."""
    sources: list[PullSource] = []
    prometheus = settings.prometheus
    if prometheus.url and prometheus.queries:
        from opsgraph.sources.prometheus import PrometheusPoller

        sources.append(PrometheusPoller(prometheus))
    cloudwatch = settings.cloudwatch
    if cloudwatch.queries or cloudwatch.namespaces or cloudwatch.alarms:
        from opsgraph.sources.aws import boto3_clients
        from opsgraph.sources.cloudwatch import CloudWatchSource
        from opsgraph.sources.cloudwatch_alarms import CloudWatchAlarmSource

        clients = boto3_clients(cloudwatch.endpoint_url, cloudwatch.profile)
        if cloudwatch.queries or cloudwatch.namespaces:
            try:
                sources.append(CloudWatchSource(cloudwatch, clients))
            except InvalidInputError as exc:  # two queries for one series
                raise ConfigError(str(exc)) from exc
        if cloudwatch.alarms:
            sources.append(CloudWatchAlarmSource(cloudwatch, clients))
    if settings.replay:
        from opsgraph.sources.replay import ReplaySource

        sources += [ReplaySource.from_settings(cfg) for cfg in settings.replay]
    return sources
