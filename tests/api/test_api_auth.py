"""Access control through the API: login cookies, refresh rotation, roles, keys, rate limits."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from opsgraph.core.auth import Role
from opsgraph.runtime.root import Runtime


def _user(client: TestClient, name: str, role: str) -> None:
    body = {"username": name, "password": "correct horse", "role": role}
    assert client.post("/auth/register", json=body).status_code == 201


def test_no_credential_is_401_and_leaks_nothing(anonymous: TestClient) -> None:
    assert anonymous.get("/health").status_code == 200
    r = anonymous.get("/anomalies")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/anomalies", headers={"Authorization": "Bearer og_nope"}).json() == {
        "detail": "invalid credentials"
    }
    bad = anonymous.post("/auth/login", json={"username": "admin", "password": "wrong-one"})
    ghost = anonymous.post("/auth/login", json={"username": "ghost", "password": "wrong-one"})
    assert bad.status_code == ghost.status_code == 401
    assert bad.json() == ghost.json()  # an unknown user and a wrong password look the same


def test_login_cookie_session_refresh_and_logout(client: TestClient, anonymous: TestClient) -> None:
    _user(client, "vera", "viewer")
    r = anonymous.post("/auth/login", json={"username": "vera", "password": "correct horse"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "viewer"
    cookies = r.headers.get_list("set-cookie")
    assert all("HttpOnly" in c and "SameSite=strict" in c for c in cookies)
    assert anonymous.get("/auth/me").json()["name"] == "vera"  # the cookie carries the session
    assert anonymous.get("/anomalies").status_code == 200
    old_refresh = anonymous.cookies.get("opsgraph_refresh")
    assert old_refresh and anonymous.post("/auth/refresh").status_code == 200
    assert anonymous.post("/auth/logout").status_code == 204
    anonymous.cookies.clear()
    assert anonymous.get("/anomalies").status_code == 401
    # Rotation: the refresh token used once no longer works.
    anonymous.cookies.set("opsgraph_refresh", old_refresh)
    assert anonymous.post("/auth/refresh").status_code == 401


def test_roles_are_enforced_per_route(
    runtime: Runtime, anonymous: TestClient, make_key: Callable[[Role], str]
) -> None:
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    operator = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    node = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    fault = {"kind": "dependency_outage", "node": node}
    assert anonymous.get("/anomalies", headers=viewer).status_code == 200
    denied = anonymous.post("/sim/faults", json=fault, headers=viewer)
    assert denied.status_code == 403 and denied.json() == {"detail": "this needs the operator role"}
    assert anonymous.post("/sim/faults", json=fault, headers=operator).status_code == 201
    assert anonymous.get("/auth/keys", headers=operator).status_code == 403


def test_api_keys_are_hashed_and_revocable(client: TestClient, runtime: Runtime) -> None:
    made = client.post("/auth/keys", json={"name": "prometheus", "role": "operator"}).json()
    key = made["key"]
    assert key.startswith("og_") and made["prefix"] == key[:11]
    listed = client.get("/auth/keys").json()
    assert all("key" not in k for k in listed)  # the secret is shown once, never listed
    assert key not in str(runtime.store.list_api_keys())
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/auth/me", headers=headers).json()["role"] == "operator"
    assert client.delete(f"/auth/keys/{made['id']}").status_code == 200
    assert client.get("/auth/me", headers=headers).status_code == 401
    # A key cannot outrank the operator who would create it.
    assert client.post("/auth/keys", json={"name": "x", "role": "root"}).status_code == 422


def test_login_rate_limit(anonymous: TestClient, runtime: Runtime) -> None:
    limit = runtime.settings.auth.login_max_failures
    for _ in range(limit):
        r = anonymous.post("/auth/login", json={"username": "admin", "password": "guess-guess"})
        assert r.status_code == 401
    r = anonymous.post("/auth/login", json={"username": "admin", "password": "guess-guess"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_signup_makes_viewers_and_can_be_turned_off(
    anonymous: TestClient, runtime: Runtime
) -> None:
    body = {"username": "newbie", "password": "long enough"}
    assert anonymous.post("/auth/register", json=body).json()["role"] == "viewer"
    taken = anonymous.post("/auth/register", json=body)
    assert taken.status_code == 409 and "already exists" in taken.text
    escalate = {"username": "sneaky", "password": "long enough", "role": "admin"}
    assert anonymous.post("/auth/register", json=escalate).status_code == 403
    short = anonymous.post("/auth/register", json={"username": "shorty", "password": "x"})
    assert short.status_code == 422 and "password" in short.text
    runtime.settings.auth.allow_signup = False
    late = anonymous.post("/auth/register", json={"username": "late", "password": "long enough"})
    assert late.status_code == 403


def test_websocket_needs_a_credential(anonymous: TestClient, client: TestClient) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, anonymous.websocket_connect("/ws") as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"


def test_first_start_creates_admin_with_a_password_shown_once(
    anonymous: TestClient, runtime: Runtime
) -> None:
    password = runtime.admin_password
    assert password and len(password) >= 12
    r = anonymous.post("/auth/login", json={"username": "admin", "password": password})
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
    assert runtime.auth.ensure_admin() is None  # users exist: nothing created, nothing shown


def _login(anonymous: TestClient, name: str) -> dict[str, str]:
    r = anonymous.post("/auth/login", json={"username": name, "password": "correct horse"})
    assert r.status_code == 200, r.text
    anonymous.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _user_id(client: TestClient, name: str) -> int:
    return next(u["id"] for u in client.get("/auth/users").json() if u["username"] == name)


def test_disabling_a_user_ends_their_tokens_and_keys_at_once(
    client: TestClient, anonymous: TestClient
) -> None:
    _user(client, "olga", "admin")  # keys are made by admins
    token = _login(anonymous, "olga")
    key = anonymous.post("/auth/keys", json={"name": "olga-ci", "role": "operator"}, headers=token)
    assert key.status_code == 201, key.text
    by_key = {"Authorization": f"Bearer {key.json()['key']}"}
    window = {"resource_ids": [], "duration_s": 60, "comment": "t"}
    assert anonymous.get("/auth/me", headers=token).status_code == 200
    assert anonymous.get("/auth/me", headers=by_key).status_code == 200
    assert client.patch(
        f"/auth/users/{_user_id(client, 'olga')}", json={"disabled": True}
    ).is_success
    for headers in (token, by_key):
        assert anonymous.get("/auth/me", headers=headers).status_code == 401
        assert anonymous.post("/maintenance", json=window, headers=headers).status_code == 401


def test_a_demoted_users_old_token_and_key_act_with_the_new_role(
    client: TestClient, anonymous: TestClient
) -> None:
    _user(client, "adam", "admin")
    token = _login(anonymous, "adam")
    key = anonymous.post("/auth/keys", json={"name": "adam-key", "role": "admin"}, headers=token)
    by_key = {"Authorization": f"Bearer {key.json()['key']}"}
    assert client.patch(
        f"/auth/users/{_user_id(client, 'adam')}", json={"role": "viewer"}
    ).is_success
    for headers in (token, by_key):
        assert anonymous.get("/auth/me", headers=headers).json()["role"] == "viewer"
        minted = anonymous.post(
            "/auth/keys", json={"name": "more", "role": "admin"}, headers=headers
        )
        assert minted.status_code == 403


def test_a_websocket_closes_when_its_key_is_revoked_or_its_user_disabled(
    client: TestClient, anonymous: TestClient
) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    made = client.post("/auth/keys", json={"name": "screen", "role": "viewer"}).json()
    with anonymous.websocket_connect(
        "/ws", headers={"Authorization": f"Bearer {made['key']}"}
    ) as ws:
        assert ws.receive_json()["type"] == "hello"
        assert client.delete(f"/auth/keys/{made['id']}").status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:  # events may still arrive until the next check (0.5 s)
                ws.receive_json()
        assert closed.value.code == 1008
    _user(client, "wendy", "viewer")
    token = _login(anonymous, "wendy")
    with anonymous.websocket_connect("/ws", headers=token) as ws:
        assert ws.receive_json()["type"] == "hello"
        client.patch(f"/auth/users/{_user_id(client, 'wendy')}", json={"disabled": True})
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1008


def test_a_websocket_from_another_sites_page_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
    # the page it connected to, a configured public URL, or no Origin at all (not a browser)
    for headers in ({"Origin": "http://testserver"}, {}):
        with client.websocket_connect("/ws", headers=headers) as ws:
            assert ws.receive_json()["type"] == "hello"
    runtime.settings.api.public_urls = ["https://ops.example.com/"]
    with client.websocket_connect("/ws", headers={"Origin": "https://ops.example.com"}) as ws:
        assert ws.receive_json()["type"] == "hello"
