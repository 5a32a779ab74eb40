"""GET /settings: the effective configuration by section, with every secret redacted, and the
registered plug-ins. Readable by viewers, so nothing in it may be a credential.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from opsgraph.act.policy import load_policies
from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import OpsgraphError
from opsgraph.runtime.settings import Settings

router = APIRouter(tags=["settings"])

REDACTED = "<redacted>"
#: Keys whose values are credentials wherever they appear (receiver params, executor options).
SECRET_KEY_RE = re.compile(
    r"pass(word|wd)?|secret|token|api_?key|(^|_)key($|_)|credential|authorization|private",
    re.I,
)
_USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")  # up to the last @
#: Entry-point groups through which plug-ins register, by the name shown.
PLUGIN_GROUPS = {
    "detectors": "opsgraph.detectors",
    "batch_detectors": "opsgraph.batch_detectors",
    "graph_detectors": "opsgraph.graph_detectors",
    "notifiers": "opsgraph.notifiers",
    "executors": "opsgraph.executors",
}


@router.get("/settings", summary="The effective configuration, secrets redacted")
def get_settings(runtime: RuntimeDep) -> dict[str, Any]:
    return effective_settings(runtime.settings)


def effective_settings(settings: Settings) -> dict[str, Any]:
    """Sections as the settings page shows them; every value passes through `redact`."""
    data = settings.model_dump(mode="json", by_alias=True)
    notify = data["notify"]
    for receiver in notify["receivers"]:
        # A webhook URL is itself the credential (Slack's carries its token in the path).
        if isinstance(receiver.get("url"), str):
            receiver["url"] = origin_only(receiver["url"])
        receiver["headers"] = dict.fromkeys(receiver.get("headers") or {}, REDACTED)
        if isinstance(receiver.get("params"), dict):
            receiver["params"] = _origins_only(receiver["params"])
    sections: dict[str, Any] = {
        "general": {
            "data_dir": data["data_dir"],
            "log_level": data["log_level"],
            "store": {**data["store"], "url": store_url(settings.store_url)},
            "api": data["api"],
            "events": data["events"],
        },
        "sources": {
            "sim": data["sim"],
            "demo": data["demo"],
            "topology": data["topology"],
            **data["sources"],
        },
        "detectors": {
            "detect": data["detect"],
            "gnn": data["gnn"],
            "multivariate": data["multivariate"],
            "logs": data["logs"],
        },
        "alerts": data["alerts"],
        "policies": _policies(settings, data),
        "notify": notify,
        "auth": data["auth"],
        "plugins": plugins(),
    }
    redacted: dict[str, Any] = redact(sections)
    return redacted


def _policies(settings: Settings, data: dict[str, Any]) -> dict[str, Any]:
    automation = data.get("automation", {})
    out: dict[str, Any] = {"automation": automation, "items": [], "error": None}
    try:
        out["items"] = [
            p.model_dump(mode="json") for p in load_policies(settings.automation.policy_dir)
        ]
    except (OpsgraphError, OSError) as exc:  # shown on the page; the pipeline reports it too
        out["error"] = str(exc)
    out["status"] = f"{len(out['items'])} configured" if out["items"] else "none configured"
    return out


def plugins() -> dict[str, list[dict[str, str]]]:
    return {
        name: sorted(
            ({"name": ep.name, "target": ep.value} for ep in entry_points(group=group)),
            key=lambda p: p["name"],
        )
        for name, group in PLUGIN_GROUPS.items()
    }


def redact(value: Any, key: str = "") -> Any:
    """A copy with credentials replaced: secret-named keys, and passwords and query strings of
    URLs (a token often travels as ?token=...)."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if SECRET_KEY_RE.search(key):
        return REDACTED
    if isinstance(value, str) and "://" in value:
        return without_credentials(value)
    return value


def without_credentials(url: str) -> str:
    """The URL without user info, query or fragment (its path is usually what people need).

    Plain text surgery rather than a parse and rebuild, which would mangle sqlite:////path."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    return _USERINFO_RE.sub(r"\1", head)


def origin_only(url: str) -> str:
    """scheme://host[:port] alone: for URLs that are themselves secrets."""
    try:
        parts = urlsplit(without_credentials(url))
    except ValueError:
        return REDACTED
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def store_url(url: str) -> str:
    """The SQLAlchemy URL with its password masked and secret query parameters dropped."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return REDACTED
    query = {k: v for k, v in parsed.query.items() if not SECRET_KEY_RE.search(k)}
    return parsed.set(query=query).render_as_string(hide_password=True)


def _origins_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _origins_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_origins_only(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return origin_only(value)
    return value
