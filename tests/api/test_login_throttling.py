"""Login throttling: per address and per (account, address) a hard limit that a success elsewhere
does not reset; per account only a back-off, so a stranger cannot lock the owner out."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.auth.ratelimit import LoginLimiter
from opsgraph.cli.server import server_config
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import ApiSettings, Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_success_on_ones_own_account_does_not_reset_the_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window_s=300, clock=clock)
    refused = 0
    for round_ in range(4):
        for name in ("a", "b", "c", "d"):
            if limiter.retry_after(f"{name}{round_}", "6.6.6.6") > 0:
                refused += 1
                continue
            limiter.failed(f"{name}{round_}", "6.6.6.6")
        if limiter.retry_after("mine", "6.6.6.6") == 0:
            limiter.succeeded("mine", "6.6.6.6")
        clock.now += 1
    assert refused >= 11  # 5 failures, then the address waits out its window
    assert limiter.retry_after("mine", "6.6.6.6") > 200


def test_a_stranger_cannot_lock_the_owner_out() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window_s=300, max_backoff_s=60, clock=clock)
    for _ in range(5):
        limiter.failed("admin", "6.6.6.6")
    # the attacker's address is refused for the window, the account only backs off
    assert limiter.retry_after("admin", "6.6.6.6") > 200
    assert 0 < limiter.retry_after("admin", "10.0.0.7") <= 1.0
    clock.now += 1.0
    assert limiter.retry_after("admin", "10.0.0.7") == 0  # the owner, from elsewhere
    limiter.succeeded("admin", "10.0.0.7")
    assert limiter.retry_after("admin", "10.0.0.7") == 0
    # guesses spread over many addresses slow down: 1, 2, 4 … 60 s between attempts
    waits = []
    for i in range(12):
        limiter.failed("root", f"10.1.0.{i}")
        waits.append(limiter.retry_after("root", f"10.2.0.{i}"))
    assert waits[4] == 1.0 and waits[5] == 2.0 and waits[-1] == 60.0


def test_names_are_unique_and_matched_without_regard_to_case(
    client: TestClient, anonymous: TestClient
) -> None:
    body = {"username": "Admin", "password": "correct horse"}
    taken = client.post("/auth/register", json=body)
    assert taken.status_code == 409 and "ignore case" in taken.text
    client.post("/auth/register", json={"username": "Carla", "password": "correct horse"})
    r = anonymous.post("/auth/login", json={"username": "CARLA", "password": "correct horse"})
    assert r.status_code == 200 and r.json()["user"]["username"] == "Carla"


def test_serve_keeps_sign_up_closed_unless_configured(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sim={"enabled": False})
    runtime = Runtime(settings)  # what `opsgraph serve` builds
    try:
        with TestClient(create_app(runtime, run_pipeline=False)) as anonymous:
            assert anonymous.get("/auth/config").json()["allow_signup"] is False
            body = {"username": "newbie", "password": "long enough"}
            assert anonymous.post("/auth/register", json=body).status_code == 403
    finally:
        runtime.close()


def test_forwarded_headers_are_believed_only_from_named_proxies() -> None:
    plain = server_config(object(), ApiSettings())
    assert plain.proxy_headers is False
    behind = server_config(object(), ApiSettings(trusted_proxies=["10.0.0.2", "10.1.0.0/16"]))
    assert behind.proxy_headers is True and behind.forwarded_allow_ips == "10.0.0.2,10.1.0.0/16"


def test_replicas_sharing_redis_share_the_counts() -> None:
    import uuid

    from opsgraph.auth.ratelimit import RedisLoginLimiter

    url = "redis://127.0.0.1:6379/0"
    one = RedisLoginLimiter(url, max_failures=3, window_s=60)
    two = RedisLoginLimiter(url, max_failures=3, window_s=60)
    address = f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    name = f"user-{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(3):
            assert two.retry_after(name, address) == 0
            one.failed(name, address)  # failures seen by one replica...
        assert two.retry_after(name, address) > 50  # ...refuse on the other
        assert 0 < two.retry_after(name, "203.0.113.9") <= 1.0  # the account only backs off
        two.succeeded(name, "203.0.113.9")
        assert one.retry_after(name, "203.0.113.9") == 0
        assert one.retry_after(name, address) > 50  # a success elsewhere: the address stays
    finally:
        one._redis.delete(*[one._key(k) for k in (f"addr:{address}",)])


def test_without_redis_logins_go_on_counted_in_process() -> None:
    from opsgraph.auth.ratelimit import RedisLoginLimiter

    gone = RedisLoginLimiter("redis://127.0.0.1:1/0", max_failures=2, window_s=60)
    for _ in range(2):
        gone.failed("ghost", "192.0.2.1")
    assert gone.retry_after("ghost", "192.0.2.1") > 50
