"""The bus: connecting to NATS, and the JetStream streams every producer and the dead letters live in.

One stream per producing service (`YUTANG_MEMBERS` holds `yutang.members.>`), file storage, a de-duplication
window so that a relay re-publishing after a crash stores nothing twice; one `YUTANG_DEAD_LETTERS` stream for
events consumers gave up on. Every function here is idempotent and safe to run at each start.
"""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from yutang_shared.outbox import SUBJECT_PREFIX

log = logging.getLogger("yutang.events")

DEAD_LETTERS = f"{SUBJECT_PREFIX.upper()}_DEAD_LETTERS"
DEAD_PREFIX = f"{SUBJECT_PREFIX}.dead"
DUPLICATE_WINDOW_SECONDS = 120.0
MSG_ID = "Nats-Msg-Id"


class Header:
    """Headers of a dead letter: where the event came from, who gave up on it and why."""

    SUBJECT = "Yutang-Original-Subject"
    STREAM_SEQ = "Yutang-Original-Stream-Seq"
    SERVICE = "Yutang-Service"
    CONSUMER = "Yutang-Consumer"
    EVENT_ID = "Yutang-Event-Id"
    EVENT_TYPE = "Yutang-Event-Type"
    ERROR = "Yutang-Error"
    DELIVERIES = "Yutang-Deliveries"
    FAILED_AT = "Yutang-Failed-At"


def stream_name(service: str) -> str:
    """The stream holding every event `service` publishes: `YUTANG_<SERVICE>`."""
    return f"{SUBJECT_PREFIX.upper()}_{service.upper()}"


def stream_subjects(service: str) -> str:
    """The subjects of `service`'s stream: `yutang.<service>.>`."""
    return f"{SUBJECT_PREFIX}.{service}.>"


def dead_letter_subject(service: str, consumer: str) -> str:
    """Where consumer `consumer` of `service` puts the events it gave up on."""
    return f"{DEAD_PREFIX}.{service}.{consumer}"


async def connect(url: str, *, name: str) -> Client:
    """A connection that keeps reconnecting for as long as the process lives (the server may restart); `url` may
    list a cluster's servers separated by commas."""

    client: list[Client] = []

    async def disconnected() -> None:
        if client and not (client[0].is_closed or client[0].is_draining):
            log.warning("NATS disconnected", extra={"nats": name})

    async def reconnected() -> None:
        log.info("NATS reconnected", extra={"nats": name})

    async def error(exc: Exception) -> None:
        log.warning("NATS error: %s", exc, extra={"nats": name})

    connection = await nats.connect(
        [server.strip() for server in url.split(",") if server.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        error_cb=error,
    )
    client.append(connection)
    return connection


async def ensure_stream(js: JetStreamContext, service: str, *, replicas: int = 1) -> None:
    """Create or update the stream of `service`'s events."""
    await _ensure(
        js,
        StreamConfig(
            name=stream_name(service),
            subjects=[stream_subjects(service)],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        ),
    )


async def ensure_dead_letters(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Create or update the dead-letter stream (`yutang.dead.<service>.<consumer>`)."""
    await _ensure(
        js,
        StreamConfig(
            name=DEAD_LETTERS,
            subjects=[f"{DEAD_PREFIX}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        ),
    )


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            log.info("stream created", extra={"stream": config.name})
            return
        except nats.js.errors.BadRequestError:  # another process created it meanwhile
            info = await js.stream_info(config.name)
    current = info.config
    if current.subjects != config.subjects or current.duplicate_window != config.duplicate_window:
        await js.update_stream(config)
        log.info("stream updated", extra={"stream": config.name})


def reraise_if_cancelled() -> None:
    """Raise CancelledError when the current task is being cancelled. nats-py turns a cancellation into errors of
    its own in places (a cancelled `publish_async` waiting for a free slot raises TooManyStalledMsgsError), so a
    loop that logs and retries every Exception must check, or it swallows the stop it was given and never ends."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
