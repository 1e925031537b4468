"""Inbox consumers: a durable JetStream pull consumer per (service, subscription) that applies each event once.

For each message, in one unit of work: claim (consumer, event id) in the service's inbox; only when the claim is
new, run the handler; commit; then ack. A redelivery (a lost ack, a replay, a relay re-publishing) finds the
claim and changes nothing. A handler that raises is retried with a growing delay (`nak`); after
`max_deliveries` the message is copied to the dead-letter stream with the error in its headers and terminated,
so one poison event never blocks the rest. Operators list and replay dead letters (`python -m yutang_dev events`).

With `Subscription.together`, a fetch that brings several messages is first tried as one unit of work (every
claim and effect, one commit, then the acks); if anything in it fails, it is rolled back and the messages go one by
one as above. A handler may so run twice for one delivery, its first effects rolled back: handlers write only
through the unit of work. The batch's claims are one statement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from sqlalchemy import Table

from yutang_shared.events.bus import (
    Header,
    dead_letter_subject,
    ensure_dead_letters,
    ensure_stream,
    reraise_if_cancelled,
    stream_name,
)
from yutang_shared.inbox import claim, claim_many
from yutang_shared.outbox import SUBJECT_PREFIX, Event
from yutang_shared.uow import UnitOfWork

log = logging.getLogger("yutang.events.consumer")

U = TypeVar("U", bound=UnitOfWork)

EventHandler = Callable[[U, Event], Awaitable[None]]
"""Applies one event inside the consumer's open unit of work; must not commit (the consumer commits the effect
together with the inbox row). Raise to have the event retried, and dead-lettered after too many tries."""

BatchHandler = Callable[[U, Sequence[Event]], Awaitable[None]]
"""Applies several events of one type at once, with the effect of applying them one by one in the order given
(used by `together` subscriptions for a run of consecutive events of its type); raising sends the whole fetched
batch back to one by one."""

MAX_DELIVERIES = 5
BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
FETCH_BATCH = 100
FETCH_TIMEOUT_SECONDS = 5.0
ACK_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Subscription(Generic[U]):
    """What one consumer of a service handles: event types of one producing service, each with its handler.

    `name` is unique within the consuming service; the durable JetStream consumer is `<service>-<name>` and the
    inbox rows carry the same name.
    """

    name: str
    source: str
    handlers: Mapping[str, EventHandler[U]]
    together: bool = False
    batch_handlers: Mapping[str, BatchHandler[U]] = field(default_factory=dict)
    """With `together`: event types whose consecutive events in a fetched batch are applied by one call (one
    statement instead of one per event); each must do what its `handlers` entry does, event after event."""
    """Apply several fetched events in one transaction (see `Consumer.apply_together`). Only for handlers that
    lock nothing another writer locks in another order (a copy only this consumer writes): a batch holds its
    locks until it commits, so with shared rows it could deadlock with the service's own requests."""

    def subjects(self) -> list[str]:
        """The subjects this subscription reads: one per event type it handles."""
        return [f"{SUBJECT_PREFIX}.{self.source}.{event_type}" for event_type in sorted(self.handlers)]


def durable_name(service: str, subscription: str) -> str:
    """The durable JetStream consumer of `service`'s subscription `subscription`."""
    return f"{service}-{subscription}"


class Consumer(Generic[U]):
    """Runs one subscription of `service` until cancelled."""

    def __init__(
        self,
        *,
        service: str,
        subscription: Subscription[U],
        inbox: Table,
        unit_of_work: Callable[[], U],
        js: JetStreamContext,
        max_deliveries: int = MAX_DELIVERIES,
        backoff_seconds: Sequence[float] = BACKOFF_SECONDS,
        fetch_batch: int = FETCH_BATCH,
        fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
        replicas: int = 1,
    ) -> None:
        self.service = service
        self.subscription = subscription
        self.inbox = inbox
        self.unit_of_work = unit_of_work
        self.js = js
        self.max_deliveries = max_deliveries
        self.backoff_seconds = tuple(backoff_seconds) or (1.0,)
        self.fetch_batch = fetch_batch
        self.fetch_timeout = fetch_timeout
        self.replicas = replicas
        self.durable = durable_name(service, subscription.name)
        self.stream = stream_name(subscription.source)

    async def run(self) -> None:
        """Fetch and apply events forever; connection trouble is logged and retried."""
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                reraise_if_cancelled()
                log.exception("consumer failed; retrying", extra={"consumer": self.durable})
                await asyncio.sleep(1.0)

    async def _consume(self) -> None:
        await self.ensure()
        subscription = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        log.info("consumer started", extra={"consumer": self.durable, "subjects": self.subscription.subjects()})
        try:
            while True:
                # A cancellation the client lost: nats-py's fetch can answer it with its own TimeoutError (and
                # Python 3.11's wait_for can drop it), and this loop would then fetch on for ever.
                reraise_if_cancelled()
                try:
                    messages = await subscription.fetch(self.fetch_batch, timeout=self.fetch_timeout)
                except nats.errors.TimeoutError:
                    continue
                if self.subscription.together and len(messages) > 1 and await self.apply_together(messages):
                    continue
                for message in messages:
                    await self.handle(message)
        finally:
            await subscription.unsubscribe()

    async def ensure(self) -> None:
        """Create (or update) the streams and the durable consumer; idempotent."""
        await ensure_stream(self.js, self.subscription.source, replicas=self.replicas)
        await ensure_dead_letters(self.js, replicas=self.replicas)
        config = ConsumerConfig(
            durable_name=self.durable,
            description=f"{self.service} applies {', '.join(sorted(self.subscription.handlers))}",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=1000,
            filter_subjects=self.subscription.subjects(),
        )
        await self.js.add_consumer(self.stream, config)

    async def info(self) -> ConsumerInfo:
        """The durable consumer's state on the server (num_pending is the lag)."""
        info: ConsumerInfo = await self.js.consumer_info(self.stream, self.durable)
        return info

    async def handle(self, message: Msg) -> str:
        """Apply one message and settle it with the server; the outcome (`applied`, `duplicate`, `skipped`,
        `retrying`, `dead-lettered`)."""
        delivered = message.metadata.num_delivered
        try:
            event = Event.from_json(message.data)
        except ValueError as exc:
            return await self._dead_letter(message, None, exc, delivered)
        handler = self.subscription.handlers.get(event.type)
        context = {"consumer": self.durable, "event_id": str(event.id), "event_type": event.type}
        if handler is None:
            await message.ack()
            log.info("consumer skipped an event it does not handle", extra=context)
            return "skipped"
        try:
            applied = await self._apply(handler, event)
        except Exception as exc:
            reraise_if_cancelled()
            if delivered >= self.max_deliveries:
                return await self._dead_letter(message, event, exc, delivered)
            delay = self.backoff_seconds[min(delivered, len(self.backoff_seconds)) - 1]
            log.warning(
                "consumer failed to apply an event; will retry",
                exc_info=True,
                extra={**context, "delivered": delivered, "retry_in_s": delay},
            )
            await message.nak(delay=delay)
            return "retrying"
        await message.ack()
        outcome = "applied" if applied else "duplicate"
        log.info(f"consumer {outcome} event", extra={**context, "outcome": outcome})
        return outcome

    async def apply_together(self, messages: Sequence[Msg]) -> bool:
        """Apply a fetched batch in one unit of work (claims and effects of every event, one commit), then ack
        each message; True when done. False, with nothing written or settled, when any message is not an event
        this subscription handles or any handler raises: the caller then handles the messages one by one, with
        their retries and dead letters. One transaction per batch instead of per event: under a backlog the
        BEGIN/COMMIT and the unit of work per event were most of a consumer's cost."""
        events = [_parsed(message) for message in messages]
        handled = [(e, self.subscription.handlers.get(e.type)) for e in events if e is not None]
        if len(handled) < len(messages) or any(handler is None for _, handler in handled):
            return False
        outcomes: list[str] = []
        try:
            uow = self.unit_of_work()
            async with uow:
                ids = [event.id for event, _ in handled]
                claimed = await claim_many(uow.session, self.inbox, consumer=self.subscription.name, event_ids=ids)
                run: list[Event] = []  # consecutive claimed events of one type with a batch handler
                for event, handler in handled:
                    first = event.id in claimed
                    claimed.discard(event.id)  # the same event twice in one fetch: its first copy applies
                    outcomes.append("applied" if first else "duplicate")
                    if not first or handler is None:
                        continue
                    if run and run[0].type != event.type:
                        await self._apply_run(uow, run)
                    if event.type in self.subscription.batch_handlers:
                        run.append(event)
                    else:
                        await handler(uow, event)
                await self._apply_run(uow, run)
                await uow.commit()
        except Exception:
            reraise_if_cancelled()
            log.info(
                "consumer could not apply a batch together; one by one", exc_info=True, extra={"consumer": self.durable}
            )
            return False
        for message, (event, _), outcome in zip(messages, handled, outcomes, strict=True):
            await message.ack()
            log.info(
                f"consumer {outcome} event",
                extra={
                    "consumer": self.durable,
                    "event_id": str(event.id),
                    "event_type": event.type,
                    "outcome": outcome,
                },
            )
        return True

    async def _apply_run(self, uow: U, run: list[Event]) -> None:
        """Apply (and empty) a run of consecutive events of one type through its batch handler."""
        if run:
            await self.subscription.batch_handlers[run[0].type](uow, list(run))
            run.clear()

    async def _apply(self, handler: EventHandler[U], event: Event) -> bool:
        uow = self.unit_of_work()
        async with uow:
            if not await claim(uow.session, self.inbox, consumer=self.subscription.name, event_id=event.id):
                return False
            await handler(uow, event)
            await uow.commit()
        return True

    async def _dead_letter(self, message: Msg, event: Event | None, error: BaseException, delivered: int) -> str:
        headers = {
            Header.SUBJECT: message.subject,
            Header.STREAM_SEQ: str(message.metadata.sequence.stream),
            Header.SERVICE: self.service,
            Header.CONSUMER: self.subscription.name,
            Header.EVENT_ID: str(event.id) if event else "",
            Header.EVENT_TYPE: event.type if event else "",
            Header.ERROR: _one_line(f"{type(error).__name__}: {error}"),
            Header.DELIVERIES: str(delivered),
            Header.FAILED_AT: datetime.now(UTC).isoformat(),
        }
        await self.js.publish(dead_letter_subject(self.service, self.subscription.name), message.data, headers=headers)
        await message.term()
        log.error(
            "consumer dead-lettered an event",
            exc_info=(type(error), error, error.__traceback__),
            extra={
                "consumer": self.durable,
                "event_id": headers[Header.EVENT_ID],
                "event_type": headers[Header.EVENT_TYPE],
                "delivered": delivered,
            },
        )
        return "dead-lettered"


def _parsed(message: Msg) -> Event | None:
    try:
        return Event.from_json(message.data)
    except ValueError:
        return None


def _one_line(text: str, limit: int = 1000) -> str:
    """A header value: no line breaks, bounded."""
    return " ".join(text.split())[:limit]
