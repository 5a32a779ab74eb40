"""`opsgraph users …` and `opsgraph keys …`: accounts and API keys, straight on the store
(for the first key of a new install, or when nobody can log in)."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError
from opsgraph.core.roles import Role

if TYPE_CHECKING:
    from opsgraph.auth.service import AuthService, Principal

users_app = typer.Typer(help="User accounts (on the configured store).", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys for machines (on the configured store).", no_args_is_help=True
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]
DemoOpt = Annotated[
    bool, typer.Option("--demo", help="Use the running `opsgraph demo`'s store instead.")
]
LOCAL_ADMIN = "cli"


def _service(config: Path | None, demo: bool = False) -> AuthService:
    from opsgraph.auth.service import AuthService
    from opsgraph.runtime.running import running_demo
    from opsgraph.runtime.settings import load_settings
    from opsgraph.store import Store

    settings = load_settings(config)
    url = settings.store_url
    if demo:
        # The running demo says where its store is (SQLite or PostgreSQL, whatever it was
        # started with); a file of an earlier demo would take a key the server never sees.
        running = running_demo(settings.data_dir)
        if running is None:
            fail(
                f"no `opsgraph demo` is running on data directory {settings.data_dir} "
                "(start it, or leave out --demo to use the configured store)"
            )
        url = running.store_url
    store = Store(url)
    store.migrate()
    return AuthService(store, settings.auth, data_dir=settings.data_dir)


def _admin() -> Principal:
    from opsgraph.auth.service import Principal

    return Principal(LOCAL_ADMIN, Role.ADMIN, "user", None)


@users_app.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="viewer, operator or admin.")] = Role.VIEWER,
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when left out).", hidden=True)
    ] = None,
    config: ConfigOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Create a user with a role."""
    secret = password or getpass.getpass("password: ")
    try:
        user = _service(config, demo).register(username, secret, role=role, by=_admin())
    except OpsgraphError as exc:
        fail(str(exc))
    console.print(f"created {user.username} ({user.role.value})")


@users_app.command("list")
def list_users(config: ConfigOpt = None, demo: DemoOpt = False) -> None:
    """Every user and role."""
    table = Table("id", "user", "role", "disabled", "last login")
    for u in _service(config, demo).store.list_users():
        last = time.strftime("%Y-%m-%d %H:%M", time.localtime(u.last_login_ts or 0))
        table.add_row(str(u.id), u.username, u.role.value, str(u.disabled), last)
    console.print(table)


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. prometheus.")],
    role: Annotated[Role, typer.Option(help="viewer, operator or admin.")] = Role.OPERATOR,
    config: ConfigOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Create an API key; it is printed once (send it as `Authorization: Bearer KEY`)."""
    try:
        key, saved = _service(config, demo).create_key(name, role, by=_admin())
    except OpsgraphError as exc:
        fail(str(exc))
    console.print(f"key {saved.id} ({saved.role.value}), shown only now:", highlight=False)
    print(key)


@keys_app.command("list")
def list_keys(
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """API keys (never their secret)."""
    keys = _service(config, demo).store.list_api_keys()
    if as_json:
        console.print_json(json.dumps([k.model_dump(mode="json") for k in keys]))
        return
    table = Table("id", "name", "prefix", "role", "revoked")
    for k in keys:
        table.add_row(str(k.id), k.name, k.prefix, k.role.value, "yes" if k.revoked_ts else "")
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: int, config: ConfigOpt = None, demo: DemoOpt = False) -> None:
    """Revoke an API key: it stops working at once."""
    try:
        key = _service(config, demo).revoke_key(key_id, by=_admin())
    except OpsgraphError as exc:
        fail(str(exc))
    console.print(f"revoked key {key.id} ({key.name})")
