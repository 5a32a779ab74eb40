"""Log lines in the store, on SQLite and PostgreSQL: batches, pages, filters, refusals."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import LogLevel, LogRecord, Resource
from opsgraph.store import Store


def _line(i: int, resource: str = "api-1", **extra: object) -> LogRecord:
    values: dict[str, object] = {
        "ts": 1000.0 + i,
        "resource_id": resource,
        "level": LogLevel.ERROR if i % 3 == 0 else LogLevel.INFO,
        "message": f"request {i} served",
        "template_id": 1 + i % 2,
        "template": "request <NUM> served",
        "score": (i % 10) / 10,
    }
    values.update(extra)
    return LogRecord.model_validate(values)


@pytest.fixture
def topology(store: Store) -> Store:
    store.upsert_topology([Resource(id="api-1"), Resource(id="db-1")], [])
    return store


def test_logs_table_and_indexes(store: Store) -> None:
    with store._engine.connect() as conn:
        insp = inspect(conn)
        columns = {c["name"]: c for c in insp.get_columns("logs")}
        indexes = sorted(ix["column_names"] for ix in insp.get_indexes("logs"))
    assert list(columns) == [
        "id",
        "ts",
        "resource_id",
        "level",
        "message",
        "template_id",
        "template",
        "score",
    ]
    assert columns["template_id"]["nullable"] and not columns["message"]["nullable"]
    assert indexes == [["resource_id", "ts"], ["ts"]]


def test_round_trip_newest_first(topology: Store) -> None:
    lines = [_line(i) for i in range(10)] + [_line(20, "db-1", template_id=None, template="")]
    assert topology.add_logs(lines) == 11
    page, total = topology.list_logs(limit=4)
    assert total == 11
    assert [r.ts for r in page] == [1020.0, 1009.0, 1008.0, 1007.0]
    first = page[0]
    assert first.id is not None and first.resource_id == "db-1" and first.template_id is None
    assert page[1].model_dump(exclude={"id"}) == lines[9].model_dump(exclude={"id"})
    rest, total = topology.list_logs(limit=50, offset=4)
    assert total == 11 and len(rest) == 7 and rest[-1].ts == 1000.0
    assert topology.counts()["logs"] == 11


def test_filters(topology: Store) -> None:
    topology.add_logs([_line(i) for i in range(10)] + [_line(i, "db-1") for i in range(10, 14)])
    only_db, total = topology.list_logs(resource_id="db-1")
    assert total == 4 and {r.resource_id for r in only_db} == {"db-1"}
    errors, total = topology.list_logs(levels=[LogLevel.ERROR, LogLevel.CRITICAL])
    assert total == 5 and all(r.level is LogLevel.ERROR for r in errors)
    hot, total = topology.list_logs(min_score=0.75)
    assert sorted(r.ts for r in hot) == [1008.0, 1009.0] and total == 2
    window, total = topology.list_logs(start=1002.0, end=1004.0, resource_id="api-1")
    assert [r.ts for r in window] == [1004.0, 1003.0, 1002.0] and total == 3
    with pytest.raises(InvalidInputError, match="end"):
        topology.list_logs(start=5.0, end=1.0)
    with pytest.raises(InvalidInputError, match="limit"):
        topology.list_logs(limit=-1)


def test_unknown_resource_stores_nothing(topology: Store) -> None:
    lines = [_line(0), _line(1, "ghost-7"), _line(2)]
    with pytest.raises(InvalidInputError) as err:
        topology.add_logs(lines)
    assert err.value.field == "logs[1].resource_id" and "ghost-7" in err.value.reason
    assert topology.counts()["logs"] == 0
    with pytest.raises(InvalidInputError, match=r"logs\[0\]\.id"):
        topology.add_logs([_line(0, id=5)])
    assert topology.add_logs([]) == 0
    assert topology.counts()["logs"] == 0


def test_record_validation() -> None:
    with pytest.raises(ValidationError, match="finite"):
        _line(0, ts=math.nan)
    with pytest.raises(ValidationError, match="letters, digits"):
        _line(0, resource="bad id!")
    with pytest.raises(ValidationError, match="score"):
        _line(0, score=1.5)
    with pytest.raises(ValidationError, match="level"):
        _line(0, level="loud")
