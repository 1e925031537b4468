"""The request context every subgraph's own context extends, and per-request dataloaders made on first use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from strawberry.litestar import BaseContext
from strawberry.types import Info

from yutang_shared.auth import Principal
from yutang_shared.db import SessionFactory, read_only
from yutang_shared.errors import Unauthenticated

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchLoad = Callable[[SessionFactory, Sequence[K]], Awaitable[Sequence[V]]]
"""A batch function: the values for these keys, in the keys' order, read in one short session."""


class Loaders:
    """One request's dataloaders, one per batch function, made the first time a resolver asks for it.

    A feature declares its batch functions in its own module; nothing central lists them, and nothing is
    cached across requests. Batch functions read through autocommit sessions: no transaction around a read.
    """

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = read_only(sessions)
        self._made: dict[object, DataLoader[Any, Any]] = {}

    def __call__(self, load: BatchLoad[K, V]) -> DataLoader[K, V]:
        loader = self._made.get(load)
        if loader is None:
            sessions = self._sessions

            async def batch(keys: list[K]) -> Sequence[V]:
                return await load(sessions, keys)

            loader = self._made[load] = DataLoader(load_fn=batch)
        return cast(DataLoader[K, V], loader)


class RequestContext(BaseContext, kw_only=True):
    """What every resolver may use: the verified principal, a session factory (never a shared session: sibling
    fields resolve concurrently) and the request's loaders. Each service extends it with its settings."""

    principal: Principal | None
    sessions: SessionFactory
    loaders: Loaders


def principal_of(info: Info[Any, Any]) -> Principal:
    """The caller; every subgraph request carries one because the trust middleware refuses the rest."""
    principal = cast(RequestContext, info.context).principal
    if principal is None:
        raise Unauthenticated("a verified token is required")
    return principal
