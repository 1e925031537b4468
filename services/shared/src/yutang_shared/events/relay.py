"""The outbox relay: publishes a service's committed outbox rows to JetStream, in `seq` order, and marks them.

One batch is one transaction: lock up to `batch` unpublished rows (FOR UPDATE SKIP LOCKED, so two relays of the
same service never publish the same rows at once), publish them all, await the acks together, mark the acked
prefix `published_at`, commit. A crash after publishing and before the commit re-publishes the batch later:
JetStream drops a message whose `Nats-Msg-Id` (the event id) it stored within its duplicate window, and
consumers' inboxes absorb anything older. The relay wakes on the NOTIFY `record` sends at commit, and polls
every `poll_seconds` in case a notification was missed (a reconnect, a manual insert).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import BigInteger, Row, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import MSG_ID, ensure_stream, reraise_if_cancelled
from yutang_shared.outbox import Event, notify_channel

log = logging.getLogger("yutang.events.relay")

BATCH = 500
POLL_SECONDS = 1.0
ACK_TIMEOUT_SECONDS = 10.0


class Relay:
    """Publishes `outbox` rows of `service` until cancelled."""

    def __init__(
        self,
        *,
        service: str,
        outbox: Table,
        engine: AsyncEngine,
        sessions: SessionFactory,
        js: JetStreamContext,
        batch: int = BATCH,
        poll_seconds: float = POLL_SECONDS,
        ack_timeout: float = ACK_TIMEOUT_SECONDS,
        replicas: int = 1,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.engine = engine
        self.sessions = sessions
        self.js = js
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.ack_timeout = ack_timeout
        self.replicas = replicas
        self._wake = asyncio.Event()
        # Built once: a relay runs these for every batch, one event each behind single writes.
        self._unpublished = (
            select(outbox)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        self._mark = (
            update(outbox)
            .where(outbox.c.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger))))
            .values(published_at=func.now())
        )

    async def run(self) -> None:
        """Publish forever: at once when notified, else every `poll_seconds`; errors are logged and retried."""
        await ensure_stream(self.js, self.service, replicas=self.replicas)
        log.info("relay started", extra={"outbox": str(self.outbox.fullname)})
        while True:
            try:
                async with self._listening() as listener:
                    await self._loop(listener)
            except asyncio.CancelledError:
                raise
            except Exception:
                reraise_if_cancelled()
                log.exception("relay failed; retrying", extra={"outbox": str(self.outbox.fullname)})
                await asyncio.sleep(self.poll_seconds)

    async def _loop(self, listener: Any) -> None:
        """Batches until the listening connection is lost (then `run` listens again)."""
        while not listener.is_closed():
            reraise_if_cancelled()  # one the NATS client or Python 3.11's wait_for lost: stop anyway
            self._wake.clear()
            if await self.publish_batch() < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def publish_batch(self) -> int:
        """Publish the next batch of unpublished rows and mark those JetStream acknowledged; how many."""
        # A Core connection, not an ORM session: nothing here is an object, and the session's bookkeeping was a
        # good part of a one-event batch's CPU.
        async with self.engine.connect() as connection, connection.begin():
            rows = await self._next_rows(connection)
            if not rows:
                return 0
            began = time.monotonic()
            acked = await self._publish(rows)
            if acked:
                await connection.execute(self._mark, {"seqs": [row.seq for row in rows[:acked]]})
        log.info(
            "relay published batch",
            extra={
                "outbox": str(self.outbox.fullname),
                "published": acked,
                "failed": len(rows) - acked,
                "first_seq": rows[0].seq,
                "ms": round((time.monotonic() - began) * 1000, 1),
            },
        )
        return acked

    async def _next_rows(self, session: AsyncSession | AsyncConnection) -> Sequence[Row[Any]]:
        """Lock the next batch of unpublished rows, in `seq` order (rows another relay holds are skipped)."""
        return (await session.execute(self._unpublished)).all()

    async def _publish(self, rows: Sequence[Row[Any]]) -> int:
        """Send every row, then await the acks together; the length of the acknowledged prefix (rows after the
        first failure stay unpublished so that they go out again in order)."""
        futures: list[asyncio.Future[Any]] = []
        try:
            for row in rows:
                event = _event(row)
                futures.append(
                    await self.js.publish_async(
                        event.subject(self.service), event.to_json(), headers={MSG_ID: str(event.id)}
                    )
                )
        except Exception:
            reraise_if_cancelled()
            log.exception("relay could not send an event")
        if not futures:
            return 0
        done, pending = await asyncio.wait(futures, timeout=self.ack_timeout)
        for future in pending:
            future.cancel()
        acked = 0
        for future in futures:
            if future not in done or future.cancelled() or future.exception() is not None:
                error = "no ack in time" if future not in done or future.cancelled() else repr(future.exception())
                log.warning("relay publish not acknowledged: %s", error, extra={"seq": rows[acked].seq})
                break
            acked += 1
        return acked

    @contextlib.asynccontextmanager
    async def _listening(self) -> Any:
        """LISTEN on the outbox's channel on a connection of its own for as long as the relay runs."""
        channel = notify_channel(self.outbox)
        async with self.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None

            def notified(*_: object) -> None:
                self._wake.set()

            await raw.add_listener(channel, notified)
            try:
                yield raw
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(raw.remove_listener(channel, notified))


def _event(row: Row[Any]) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        version=row.version,
        aggregate_id=row.aggregate_id,
        occurred_at=row.occurred_at,
        data=row.data,
    )
