"""Workers stop when cancelled, even when the NATS client turns the cancellation into an error of its own."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from unittest.mock import AsyncMock

import nats.errors

from yutang_shared.events.bus import reraise_if_cancelled
from yutang_shared.events.consumer import Consumer
from yutang_shared.events.consumer import Subscription as SubscriptionSpec
from yutang_shared.inbox import inbox_table


async def test_a_retry_loop_ends_when_cancelled_even_if_a_library_turns_the_cancel_into_an_error() -> None:
    # given a loop that retries every Exception, around a call that (like nats-py's stalled publish_async) raises
    # an ordinary error when it is cancelled
    async def library_call() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RuntimeError("stalled") from None

    async def worker() -> None:
        while True:
            try:
                await library_call()
            except Exception:
                reraise_if_cancelled()
                await asyncio.sleep(0)

    task = asyncio.create_task(worker())
    await asyncio.sleep(0.01)

    # when it is cancelled
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)

    # then it ends, cancelled, instead of retrying forever
    assert done
    assert task.cancelled()


async def test_outside_a_cancellation_nothing_is_raised() -> None:
    reraise_if_cancelled()


async def test_a_consumer_stops_when_the_client_answers_its_cancellation_with_a_fetch_timeout() -> None:
    # given a consumer whose pull subscription (like nats-py's, around a NATS restart) turns a cancellation of its
    # fetch into the client's own TimeoutError, which the consumer's loop treats as "no message yet"
    class Subscription:
        async def fetch(self, batch: int, timeout: float) -> list[object]:  # noqa: ASYNC109 (nats-py's signature)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(timeout)
            raise nats.errors.TimeoutError

        async def unsubscribe(self) -> None:
            return None

    class JetStream:
        async def pull_subscribe_bind(self, **_: object) -> Subscription:
            return Subscription()

    consumer: Consumer[Any] = Consumer(
        service="test",
        subscription=SubscriptionSpec(name="copies", source="members", handlers={}),
        inbox=inbox_table("test"),
        unit_of_work=lambda: None,
        js=JetStream(),  # type: ignore[arg-type]
        fetch_timeout=0.05,
    )
    consumer.ensure = AsyncMock()  # type: ignore[method-assign]
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.2)

    # when it is cancelled
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)

    # then it ends, cancelled, instead of fetching on
    assert done
    assert task.cancelled()
