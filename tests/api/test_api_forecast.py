"""GET /resources/{id}/forecast: a stored series' forecast with its interval; /forecasters."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opsgraph.cli import forecast as cli_forecast
from opsgraph.cli.common import answer
from opsgraph.cli.main import app
from opsgraph.runtime.root import Runtime

DAY = 86_400.0


def _store_history(runtime: Runtime, metric: str, days: float, step: float = 300.0) -> str:
    """`days` of a daily cycle for the first resource, written straight into the store."""
    node = sorted(runtime.estate.resources)[0]
    (sid,) = runtime.store.ensure_series([(node, metric)])
    ts = 1_700_000_000.0 + np.arange(int(days * DAY / step)) * step
    values = 100 + 40 * np.sin(2 * np.pi * ts / DAY)
    runtime.store.write_batch(series_ids=np.full(ts.size, sid), ts=ts, values=values)
    return node


def test_a_daily_cycle_is_forecast_with_its_interval(client: TestClient, runtime: Runtime) -> None:
    node = _store_history(runtime, "orders", days=3)
    r = client.get(f"/resources/{node}/forecast", params={"metric": "orders", "horizon_s": DAY})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resource_id"] == node and body["metric"] == "orders"
    # Three days: `auto` takes the daily profile.
    assert body["asked"] == "auto" and body["forecaster"]["name"] == "seasonal_profile"
    assert body["forecaster"]["params"]["period_s"] == DAY
    assert body["history"]["points"] == 3 * 288 and body["step_s"] == 300.0
    ts, mean = np.array(body["ts"]), np.array(body["mean"])
    assert ts.size == 288 and ts[0] == body["history"]["end"] + 300.0
    truth = 100 + 40 * np.sin(2 * np.pi * ts / DAY)
    np.testing.assert_allclose(mean, truth, atol=1.0)
    lower, upper = np.array(body["lower"]), np.array(body["upper"])
    assert np.all(lower <= mean) and np.all(mean <= upper)
    # Hourly points, a named forecaster.
    r = client.get(
        f"/resources/{node}/forecast",
        params={"metric": "orders", "horizon_s": 6 * 3600, "step_s": 3600, "forecaster": "naive"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["forecaster"]["name"] == "naive" and len(body["ts"]) == 6
    assert len(set(body["mean"])) == 1
    names = client.get("/forecasters").json()["forecasters"]
    assert names[0] == "auto" and {"naive", "seasonal_profile"} <= set(names)


def test_bad_requests_name_the_problem(client: TestClient, runtime: Runtime) -> None:
    node = _store_history(runtime, "orders", days=1)
    base = f"/resources/{node}/forecast"
    r = client.get(base, params={"metric": "no_such_metric"})
    assert r.status_code == 422 and "no_such_metric" in r.text and "orders" in r.text
    assert client.get("/resources/ghost/forecast", params={"metric": "cpu"}).status_code == 404
    r = client.get(base, params={"metric": "orders", "forecaster": "crystal_ball"})
    assert r.status_code == 422 and "crystal_ball" in r.text
    r = client.get(base, params={"metric": "orders", "forecaster": "seasonal_naive_weekly"})
    assert r.status_code == 422 and "period" in r.text  # a day of history, a weekly model
    r = client.get(base, params={"metric": "orders", "step_s": 450})
    assert r.status_code == 422 and "step_s" in r.text
    for bad in ({"horizon_s": 0}, {"horizon_s": 30 * DAY}, {"horizon_s": "inf"}, {}):
        r = client.get(base, params={"metric": "orders", **bad} if bad else {})
        assert r.status_code == 422, (bad, r.text)


def test_the_cli_shows_the_forecast_of_a_running_api(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = _store_history(runtime, "orders", days=3)
    asked: list[str] = []

    def through_the_api(method: str, url: str, body: object = None) -> object:
        path = url.removeprefix("http://opsgraph.test")
        asked.append(path)
        return answer(client.request(method, path))

    monkeypatch.setattr(cli_forecast, "call_api", through_the_api)
    args = ["forecast", "show", node, "--metric", "orders", "--url", "http://opsgraph.test"]
    result = CliRunner().invoke(app, [*args, "--horizon-s", "43200"])
    assert result.exit_code == 0, result.output
    assert "seasonal_profile" in result.output and "asked auto" in result.output
    assert "every 6th point" in result.output  # 144 points, 24 rows
    assert asked[0].startswith(f"/resources/{node}/forecast?metric=orders&horizon_s=43200")
    as_json = CliRunner().invoke(app, [*args, "--json", "--forecaster", "naive"])
    assert as_json.exit_code == 0 and '"name": "naive"' in as_json.output
    refused = CliRunner().invoke(app, ["forecast", "show", node, "-m", "nope", "--url",
                                       "http://opsgraph.test"])  # fmt: skip
    assert refused.exit_code == 2 and "nope" in refused.output
