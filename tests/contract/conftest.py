"""Contract tests: schemathesis against each subgraph in-process, and once through the running gateway.

Custom scalars get strategies here (schemathesis keeps them in one global registry): valid values most of the
time, junk sometimes. Junk must come back as a validation error or a union member, never as a server error.
"""

from __future__ import annotations

import os
import string
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from yutang_shared.auth import SIGNATURE_HEADER, sign_body
from yutang_shared.connections import encode_cursor
from yutang_shared.trust import read_body, replay

# Calls made per operation, shown in the terminal summary.
EXAMPLES: Counter[str] = Counter()
# Operations only a member may call (anyone else is FORBIDDEN, a top-level error): called with a member's token.
MEMBER_ONLY = frozenset({"Mutation.changeMyMobile"})

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

# Bounded runs: the whole contract suite stays well under two minutes on two cores.
SUBGRAPH_SETTINGS = settings(
    max_examples=int(os.environ.get("CONTRACT_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
GATEWAY_SETTINGS = settings(SUBGRAPH_SETTINGS, max_examples=12)


# --- scalar strategies -----------------------------------------------------------------------------------------

junk_text = st.text(max_size=40)  # any code point, NUL included

uuid_text = st.uuids().map(str)
uuids = st.one_of(uuid_text, uuid_text, uuid_text.map(str.upper), junk_text)

zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])
aware = st.datetimes(timezones=zones)
naive = st.datetimes()
timestamps = st.one_of(aware, naive).map(datetime.isoformat)
datetimes_ = st.one_of(timestamps, timestamps, junk_text)

cursor_part = st.one_of(timestamps, uuid_text, st.text(alphabet=string.printable, max_size=20), junk_text)
lists = st.sampled_from(["members", "groups", "group-members", "ledger", "other"])
cursors = st.one_of(
    # what the services make: (list, timestamp, id), sometimes for another list or with an out-of-range date
    st.tuples(lists, timestamps, uuid_text).map(lambda parts: encode_cursor(*parts)),
    # well-formed cursors that carry the wrong parts
    st.lists(cursor_part, min_size=1, max_size=3).map(lambda parts: encode_cursor(*parts)),
    # not a cursor at all
    junk_text,
    st.text(alphabet=string.ascii_letters + string.digits + "-_=", max_size=300),
)


def _field(name: str, value: graphql.ValueNode) -> graphql.ObjectFieldNode:
    return graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)


representation_id = st.one_of(uuids.map(nodes.String), st.integers(-(2**31), 2**31 - 1).map(nodes.Int))
typenames = st.one_of(st.just("Member"), st.just("Member"), st.sampled_from(["Group", "Query", ""]), junk_text)
representations = st.one_of(
    st.builds(
        lambda typename, id_: nodes.Object([_field("__typename", nodes.String(typename)), _field("id", id_)]),
        typenames,
        representation_id,
    ),
    # a representation without an id
    typenames.map(lambda typename: nodes.Object([_field("__typename", nodes.String(typename))])),
)


def json_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (the JSON scalar: audience and tag rules)."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([json_node(item) for item in value])
    return nodes.Object([_field(key, json_node(item)) for key, item in value.items()])


json_keys = st.sampled_from(["all", "any", "condition", "days", "min", "max", "in", "ids", "value", "negate", "date"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31 - 1) | junk_text,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(json_keys | st.from_regex(r"\A[a-z]{1,8}\Z"), children, max_size=3)
    ),
    max_leaves=12,
)
conditions = st.builds(
    lambda name, days: {"condition": name, "days": days},
    st.sampled_from(["bought_within", "visited_within", "carted_within", "shoe_size"]),
    st.integers(-5, 4000),
)
rules = st.one_of(
    json_values,
    conditions,
    st.lists(conditions, max_size=3).map(lambda items: {"all": items}),
    st.lists(conditions, max_size=3).map(lambda items: {"any": [{"all": items}]}),
)

schemathesis.graphql.scalar("JSON", rules.map(json_node))
schemathesis.graphql.scalar("UUID", uuids.map(nodes.String))
schemathesis.graphql.scalar("DateTime", datetimes_.map(nodes.String))
schemathesis.graphql.scalar("Cursor", cursors.map(nodes.String))
schemathesis.graphql.scalar("_Any", representations)


# --- the gateway's side of the trust boundary ------------------------------------------------------------------


class SignedLikeTheGateway:
    """Test-only ASGI middleware: buffers the body and adds what the gateway adds, a bearer token and a fresh
    `x-yutang-signature` over the exact body bytes, so the app's own trust check runs on every call."""

    def __init__(self, app: ASGIApp, *, service: str, secret: bytes, token: str) -> None:
        self.app = app
        self.service = service
        self.secret = secret
        self.token = token

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, limit=1 << 30)
        assert body is not None
        # A test may call as someone else (MEMBER_ONLY operations) by sending its own Authorization.
        given = dict(scope.get("headers", [])).get(b"authorization", f"Bearer {self.token}".encode())
        replaced = {b"authorization", SIGNATURE_HEADER.encode()}
        headers = [(key, value) for key, value in scope.get("headers", []) if key not in replaced]
        headers += [
            (b"authorization", given),
            (SIGNATURE_HEADER.encode(), sign_body(self.secret, body).encode()),
        ]
        await self.app({**scope, "headers": headers}, replay(body, receive), send)


@pytest.fixture(autouse=True)
def _lazy_schema_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32.5 renames the running node through `Node._nodeid`, which pytest 9.2 replaced by a
    structured id: give the node the old attribute so `schemathesis.pytest.from_fixture` schemas can run."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if EXAMPLES:
        terminalreporter.section("contract examples")
        for label, count in sorted(EXAMPLES.items()):
            terminalreporter.write_line(f"{count:5d}  {label}")
        terminalreporter.write_line(f"{sum(EXAMPLES.values()):5d}  in all, {len(EXAMPLES)} operations")
