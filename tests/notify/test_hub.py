"""The event hub delivers to every subscriber, from any thread, dropping the oldest when full."""

from __future__ import annotations

import asyncio
import threading

import pytest

from opsgraph.notify import EventHub, Message


def test_fan_out_from_a_worker_thread_and_bounded_queues() -> None:
    async def scenario() -> None:
        hub = EventHub(queue_size=3)
        hub.bind(asyncio.get_running_loop())
        async with hub.subscribe() as first, hub.subscribe() as second:
            worker = threading.Thread(
                target=lambda: [hub.publish("metrics:update", {"n": i}) for i in range(5)]
            )
            worker.start()
            worker.join()
            await asyncio.sleep(0.05)
            got = [first.get_nowait().data["n"] for _ in range(first.qsize())]
            assert got == [2, 3, 4]  # the two oldest were dropped, not the newest
            assert second.qsize() == 3
        assert hub.subscriber_count == 0 and hub.dropped == 4

    asyncio.run(scenario())


def test_unknown_message_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message type"):
        EventHub().publish("anomaly:maybe", {})


def test_ids_increase_and_the_ring_buffer_keeps_the_newest() -> None:
    hub = EventHub(history_size=3)
    for i in range(5):
        hub.publish("fault:new", {"n": i})
    page = hub.history(0)
    assert [m.id for m in page.messages] == [3, 4, 5] and page.missed == 2
    assert [m.data["n"] for m in page.messages] == [2, 3, 4] and page.cursor == 5
    assert hub.history(4).messages[0].id == 5 and hub.history(5).messages == []
    assert hub.history(99).reset


def test_queues_get_messages_in_id_order_whatever_thread_published() -> None:
    async def scenario() -> list[int]:
        hub = EventHub()
        hub.bind(asyncio.get_running_loop())
        async with hub.subscribe() as queue:
            threads = [
                threading.Thread(
                    target=lambda: [hub.publish("metrics:update", {}) for _ in range(50)]
                )
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            got = [(await queue.get()).id for _ in range(200)]
            hub.publish("graph:update", {})  # on the loop itself: delivered at once
            got.append(queue.get_nowait().id)
            return got

    assert asyncio.run(scenario()) == list(range(1, 202))


def test_poll_waits_for_a_message_of_the_wanted_type() -> None:
    async def scenario() -> None:
        hub = EventHub()
        hub.publish("fault:new", {"n": 0})
        poll = asyncio.create_task(hub.poll(1, timeout=30, types={"anomaly:new"}))
        while hub.waiting == 0:
            await asyncio.sleep(0)
        threading.Thread(
            target=lambda: [
                hub.publish("metrics:update", {}),
                hub.publish("anomaly:new", {"id": 7}),
            ]
        ).start()
        result = await poll
        assert [(m.type, m.data) for m in result.messages] == [("anomaly:new", {"id": 7})]
        assert result.cursor == hub.last_id and hub.waiting == 0
        empty = await hub.poll(hub.last_id, timeout=0.05)
        assert empty.messages == [] and empty.cursor == hub.last_id

    asyncio.run(scenario())


def test_relayed_messages_are_marked_not_local() -> None:
    hub = EventHub()
    hub.publish("fault:new", {})
    hub.deliver_remote(Message("fault:new", {}))
    assert [m.local for m in hub.history().messages] == [True, False]


def test_pollers_get_only_the_newest_metrics_snapshot() -> None:
    hub = EventHub(history_size=10)
    hub.publish("metrics:update", {"n": 1})
    hub.publish("anomaly:new", {"id": 1})
    hub.publish("metrics:update", {"n": 2})
    page = hub.history(0)
    assert [(m.type, m.id) for m in page.messages] == [("anomaly:new", 2), ("metrics:update", 3)]
    assert page.cursor == 3 and page.missed == 0
