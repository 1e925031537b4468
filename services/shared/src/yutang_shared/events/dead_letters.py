"""Operators' view of the dead-letter stream: list what consumers gave up on, and replay it.

A replay publishes the original message again on its original subject (with a fresh message id, so JetStream
does not drop it as a duplicate) and removes the dead letter. Every consumer of that subject receives it again;
those that applied it already find it in their inbox and change nothing, the one that failed gets a new try.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from yutang_shared.events.bus import DEAD_LETTERS, DEAD_PREFIX, MSG_ID, Header


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One event a consumer gave up on, with where it came from and why."""

    seq: int
    service: str
    consumer: str
    subject: str
    event_id: str
    event_type: str
    error: str
    deliveries: int
    failed_at: str
    data: bytes


async def dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    """Every dead letter still in the stream, oldest first (empty when the stream does not exist yet)."""
    found: list[DeadLetter] = []
    seq = 1
    while True:
        try:
            raw = await js.get_msg(DEAD_LETTERS, seq=seq, subject=f"{DEAD_PREFIX}.>", next=True)
        except NotFoundError:
            return found
        assert raw.seq is not None
        headers = raw.headers or {}
        found.append(
            DeadLetter(
                seq=raw.seq,
                service=headers.get(Header.SERVICE, ""),
                consumer=headers.get(Header.CONSUMER, ""),
                subject=headers.get(Header.SUBJECT, ""),
                event_id=headers.get(Header.EVENT_ID, ""),
                event_type=headers.get(Header.EVENT_TYPE, ""),
                error=headers.get(Header.ERROR, ""),
                deliveries=int(headers.get(Header.DELIVERIES) or 0),
                failed_at=headers.get(Header.FAILED_AT, ""),
                data=raw.data or b"",
            )
        )
        seq = raw.seq + 1


async def replay(js: JetStreamContext, *, event_ids: Collection[str] | None = None) -> list[DeadLetter]:
    """Republish dead letters to their original subjects and remove them; all of them when `event_ids` is None,
    else those of these events. The replayed ones, in order."""
    replayed: list[DeadLetter] = []
    for letter in await dead_letters(js):
        if event_ids is not None and letter.event_id not in event_ids:
            continue
        if not letter.subject:
            continue  # not a dead letter this module wrote
        await js.publish(letter.subject, letter.data, headers={MSG_ID: f"replay-{uuid.uuid4()}"})
        await js.delete_msg(DEAD_LETTERS, letter.seq)
        replayed.append(letter)
    return replayed
