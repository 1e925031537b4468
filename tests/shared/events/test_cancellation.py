"""Workers stop when cancelled, even when the NATS client turns the cancellation into an error of its own."""

from __future__ import annotations

import asyncio

from yutang_shared.events.bus import reraise_if_cancelled


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
