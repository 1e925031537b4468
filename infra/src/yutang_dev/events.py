"""`python -m yutang_dev events …`: what operators do with the event bus.

- `dead-letters`: list the events consumers gave up on (service, consumer, event type and id, error, when).
- `replay [--id <event id> …] [--all]`: republish dead letters to their original subjects and remove them.
- `rebuild-directory --service loyalty|community [--reapply]`: replay the members stream from its start into the
  service's member directory (back-fill): the durable consumer is deleted and created again delivering from the
  first message; events it applied before are skipped by its inbox, unless `--reapply` forgets them first (the
  directory's upserts are idempotent, so applying everything again converges on the same rows).

The bus is `YUTANG_NATS_URL`, else `NATS_URL`, else the embedded server `make run` starts (127.0.0.1:4250).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from yutang_dev.nats import DEFAULT_PORT
from yutang_shared.events.bus import connect
from yutang_shared.events.consumer import Consumer, Subscription
from yutang_shared.events.dead_letters import dead_letters, replay

__all__ = ["add_events_commands", "nats_url"]

DIRECTORY_SERVICES = ("loyalty", "community")


def nats_url() -> str:
    """The bus operators talk to."""
    return os.environ.get("YUTANG_NATS_URL") or os.environ.get("NATS_URL") or f"nats://127.0.0.1:{DEFAULT_PORT}"


def add_events_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`events dead-letters | replay | rebuild-directory`."""
    parser = commands.add_parser("events", help="the event bus: dead letters, replays, directory back-fill")
    actions = parser.add_subparsers(required=True, metavar="action")
    listing = actions.add_parser("dead-letters", help="list events consumers gave up on")
    listing.set_defaults(handler=_dead_letters)
    again = actions.add_parser("replay", help="republish dead letters to their original subjects")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", metavar="EVENT_ID", help="an event id (repeatable)")
    which.add_argument("--all", action="store_true", help="every dead letter")
    again.set_defaults(handler=_replay)
    rebuild = actions.add_parser("rebuild-directory", help="replay members' events into a member directory")
    rebuild.add_argument("--service", required=True, choices=DIRECTORY_SERVICES)
    rebuild.add_argument("--reapply", action="store_true", help="forget the inbox first: apply every event again")
    rebuild.set_defaults(handler=_rebuild)


def _dead_letters(args: argparse.Namespace) -> int:
    letters = asyncio.run(_with_js(lambda js: dead_letters(js)))
    if not letters:
        print("no dead letters")
        return 0
    print(f"{'failed at':<32} {'service':<10} {'consumer':<12} {'event type':<20} {'event id':<36} tries  error")
    for letter in letters:
        print(
            f"{letter.failed_at:<32} {letter.service:<10} {letter.consumer:<12} {letter.event_type:<20} "
            f"{letter.event_id:<36} {letter.deliveries:>5}  {letter.error}"
        )
    print(f"{len(letters)} dead letter(s); replay with: python -m yutang_dev events replay --id <event id> | --all")
    return 0


def _replay(args: argparse.Namespace) -> int:
    ids = None if args.all else set(args.ids)
    replayed = asyncio.run(_with_js(lambda js: replay(js, event_ids=ids)))
    for letter in replayed:
        print(f"replayed {letter.event_type} {letter.event_id} to {letter.subject}")
    print(f"{len(replayed)} replayed")
    return 0 if replayed or ids is None else 1


def _rebuild(args: argparse.Namespace) -> int:
    service: str = args.service
    subscription: Subscription[Any] = importlib.import_module(f"{service}.directory.service").SUBSCRIPTION

    async def rebuild(js: Any) -> None:
        consumer: Consumer[Any] = Consumer(
            service=service,
            subscription=subscription,
            inbox=None,  # type: ignore[arg-type]  # only the durable consumer is touched here
            unit_of_work=lambda: None,
            js=js,
        )
        try:
            await js.delete_consumer(consumer.stream, consumer.durable)
        except Exception as exc:
            print(f"no durable consumer {consumer.durable} to delete ({type(exc).__name__})")
        if args.reapply:
            await _forget_inbox(service, subscription.name)
        await consumer.ensure()
        info = await consumer.info()
        print(f"{consumer.durable} delivers the {info.num_pending} events of {consumer.stream} from the start again")

    asyncio.run(_with_js(rebuild))
    return 0


async def _forget_inbox(service: str, consumer: str) -> None:
    url = os.environ.get(f"{service.upper()}_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("--reapply needs DATABASE_URL (or <SERVICE>_DATABASE_URL) to reach the service's inbox")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            done = await connection.execute(
                text(f'DELETE FROM "{service}".inbox WHERE consumer = :consumer'),  # noqa: S608 (a known service)
                {"consumer": consumer},
            )
        print(f"forgot {done.rowcount} applied events of {service}'s {consumer} consumer")
    finally:
        await engine.dispose()


async def _with_js(action: Any) -> Any:
    nc = await connect(nats_url(), name="yutang-operator")
    try:
        return await action(nc.jetstream())
    finally:
        await nc.close()
