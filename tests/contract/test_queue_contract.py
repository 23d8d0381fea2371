"""The TaskQueue port contract, the same for the in-process queue and Cloud Tasks."""

from __future__ import annotations

import asyncio


async def test_a_task_is_delivered_with_its_kind_and_payload(queue):
    assert await queue.queue.enqueue("model_call", {"run": "r1", "row": 3}, name="r1-row3") is True
    await queue.deliveries.wait_for(1)
    assert queue.deliveries.seen == [("model_call", {"run": "r1", "row": 3})]


async def test_a_pending_name_is_not_queued_twice(queue):
    assert await queue.queue.enqueue("later", {"n": 1}, name="same-key", delay_seconds=60) is True
    assert await queue.queue.enqueue("later", {"n": 2}, name="same-key", delay_seconds=60) is False


async def test_a_failing_task_is_retried_until_it_succeeds(queue):
    queue.deliveries.fail_first.add("flaky")
    await queue.queue.enqueue("flaky", {"n": 1}, name="flaky-1")
    await queue.deliveries.wait_for(2)
    assert queue.deliveries.seen == [("flaky", {"n": 1}), ("flaky", {"n": 1})]


async def test_delayed_tasks_wait_for_their_time(queue):
    await queue.queue.enqueue("soon", {}, name="soon-1", delay_seconds=1.5)
    await asyncio.sleep(0.5)
    assert queue.deliveries.seen == []
    await queue.deliveries.wait_for(1, timeout=20)


async def test_a_reachable_queue_answers_its_ping(queue):
    await queue.queue.ping()
