"""The event hub delivers to every subscriber, from any thread, dropping the oldest when full."""

from __future__ import annotations

import asyncio
import threading

import pytest

from opsgraph.notify import EventHub


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
