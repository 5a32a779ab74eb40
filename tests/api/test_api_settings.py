"""GET /settings: sections of the effective configuration, plug-ins, and no secret in sight."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.api.routes.settings import REDACTED, effective_settings
from opsgraph.core.auth import Role
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings

SECRETS = {
    "jwt": "jwt-signing-key-0f3a9c",
    "admin": "admin-password-7d1e",
    "smtp": "smtp-password-55b2",
    "slack": "slacktoken9XyZ",
    "bearer": "webhook-bearer-c0ffee",
    "url_password": "urlpass-31337",
    "query_token": "querytok-4242",
    "header": "header-secret-abcd",
    "prom_password": "prompass-8e8e",
    "prom_bearer": "prom-bearer-beef",
}


def _secret_settings(data_dir: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        sim={"resources": 10, "seed": 3, "preroll_steps": 0},
        auth={"secret_key": SECRETS["jwt"], "admin_password": SECRETS["admin"]},
        sources={
            "prometheus": {
                "url": f"http://promuser:{SECRETS['prom_password']}@prom.example:9090/",
                "queries": ["up"],
                "bearer_token": SECRETS["prom_bearer"],
            }
        },
        notify={
            "receivers": [
                {
                    "name": "chat",
                    "type": "slack",
                    "url": f"https://hooks.slack.com/services/T0/B0/{SECRETS['slack']}",
                },
                {
                    "name": "hook",
                    "type": "webhook",
                    "url": f"https://ops:{SECRETS['url_password']}@hooks.example.com/in"
                    f"?token={SECRETS['query_token']}",
                    "bearer_token": SECRETS["bearer"],
                    "headers": {"X-Api-Key": SECRETS["header"]},
                },
                {
                    "name": "mail",
                    "type": "email",
                    "host": "smtp.example.com",
                    "username": "opsgraph",
                    "password": SECRETS["smtp"],
                    "sender": "ops@example.com",
                    "to": ["oncall@example.com"],
                },
            ],
            "routes": [{"receiver": "chat", "min_severity": "high"}, {"receiver": "mail"}],
        },
        **extra,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """Replaces the shared fixture: the same kind of runtime, configured with secrets."""
    rt = Runtime(_secret_settings(tmp_path), demo=True)
    yield rt
    rt.close()


def _assert_no_secret(text: str) -> None:
    leaked = [name for name, secret in SECRETS.items() if secret in text]
    assert leaked == [], f"secrets in the response: {leaked}"


def test_settings_are_grouped_and_redacted(client: TestClient) -> None:
    response = client.get("/settings")
    assert response.status_code == 200, response.text
    _assert_no_secret(response.text)
    body = response.json()
    assert set(body) >= {"sources", "detectors", "policies", "notify", "auth", "plugins"}
    assert body["auth"]["secret_key"] == REDACTED
    assert body["auth"]["admin_password"] == REDACTED
    assert body["auth"]["allow_signup"] is True
    receivers = {r["name"]: r for r in body["notify"]["receivers"]}
    assert receivers["chat"]["url"] == "https://hooks.slack.com"
    assert receivers["hook"]["url"] == "https://hooks.example.com"
    assert receivers["hook"]["bearer_token"] == REDACTED
    assert receivers["hook"]["headers"] == {"X-Api-Key": REDACTED}
    assert receivers["mail"]["password"] == REDACTED
    assert receivers["mail"]["username"] == "opsgraph"  # not a secret, and useful
    assert [r["receiver"] for r in body["notify"]["routes"]] == ["chat", "mail"]
    prometheus = body["sources"]["prometheus"]
    assert prometheus["url"] == "http://prom.example:9090/"
    assert prometheus["bearer_token"] == REDACTED
    assert prometheus["queries"] == [{"expr": "up", "metric": None}]
    assert body["detectors"]["detect"]["detector"] == "ensemble"
    assert {"gnn", "multivariate", "logs"} <= set(body["detectors"])
    assert body["policies"]["status"] == "none configured"
    assert body["policies"]["items"] == []


def test_plugins_are_listed_by_entry_point_group(client: TestClient) -> None:
    plugins = client.get("/settings").json()["plugins"]
    names = {group: {p["name"] for p in items} for group, items in plugins.items()}
    assert {"robust_z", "seasonal", "cusum"} <= names["detectors"]
    assert {"iforest", "lof"} <= names["batch_detectors"]
    assert "graphsage" in names["graph_detectors"]
    assert {"slack", "email", "webhook", "alertmanager"} <= names["notifiers"]
    robust = next(p for p in plugins["detectors"] if p["name"] == "robust_z")
    assert robust["target"] == "opsgraph.detect.robust_z:RobustZDetector"


def test_viewers_may_read_and_strangers_may_not(
    runtime: Runtime,
    make_key: Callable[[Role], str],
    anonymous: TestClient,
) -> None:
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    response = anonymous.get("/settings", headers=viewer)
    assert response.status_code == 200
    _assert_no_secret(response.text)
    assert anonymous.get("/settings").status_code == 401


def test_store_redis_and_plugin_secrets_are_redacted(tmp_path: Path) -> None:
    settings = _secret_settings(
        tmp_path,
        store={"url": "postgresql+psycopg://opsgraph:dbpass-9911@db.example:5432/ops"},
        events={"redis_url": "redis://:redispass-1212@cache.example:6379/0"},
    )
    plugin = Settings(
        data_dir=tmp_path,
        notify={
            "receivers": [
                {
                    "name": "pager",
                    "type": "pagerduty",
                    "params": {
                        "routing_key": "pd-routing-7777",
                        "api_key": "pd-api-key-8888",
                        "endpoint": "https://events.example.net/v2/pdpath-9999",
                    },
                }
            ]
        },
    )
    text = repr(effective_settings(settings)) + repr(effective_settings(plugin))
    _assert_no_secret(text)
    for secret in ("dbpass-9911", "redispass-1212", "pd-routing-7777", "pd-api-key-8888"):
        assert secret not in text
    body = effective_settings(settings)
    assert body["general"]["store"]["url"] == "postgresql+psycopg://db.example:5432/ops"
    assert body["general"]["events"]["redis_url"] == "redis://cache.example:6379/0"
    params = effective_settings(plugin)["notify"]["receivers"][0]["params"]
    assert params["api_key"] == params["routing_key"] == REDACTED
    assert "pdpath-9999" not in text  # a plug-in's URL keeps only its origin
    assert params["endpoint"] == "https://events.example.net"
