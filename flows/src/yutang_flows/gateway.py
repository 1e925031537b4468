"""A small GraphQL client for the gateway, with the flows' service credential (never database access)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
from prefect import Task
from prefect.client.schemas.objects import State, TaskRun

from yutang_flows.credentials import ClientCredentials, CredentialError, bearer_token, forget_token

# Top-level error codes that mean the request itself is refused: the same request can never succeed.
PERMANENT_CODES = frozenset(
    {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}
)
# HTTP statuses with the same meaning (bad request, no or bad token, forbidden, not found, too large, invalid).
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 413, 422})


class GatewayError(RuntimeError):
    """The gateway answered with top-level GraphQL errors or a non-200 status.

    `status` is the HTTP status and `codes` the errors' `extensions.code` values; `retryable` says whether trying
    the same request again can help (a 5xx, a masked unexpected error) or not (a refusal, a malformed request).
    """

    def __init__(self, message: str, *, status: int = 200, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes

    @property
    def retryable(self) -> bool:
        return self.status not in PERMANENT_STATUSES and not PERMANENT_CODES.intersection(self.codes)


def gateway_url() -> str:
    return os.environ.get("YUTANG_GATEWAY_URL", "http://127.0.0.1:4000/graphql")


def execute(query: str, variables: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
    """Run one GraphQL operation through the gateway and return `data`; raise GatewayError on any error.

    With a service client, a 401 drops the cached token and the request is sent once more with a new one."""
    url = gateway_url()
    request_id = request_id or f"flow-{uuid.uuid4().hex}"
    token, client = _token(url)
    response = _post(url, query, variables, token, request_id)
    if response.status_code == 401 and client is not None:
        forget_token(client, token)
        token, client = _token(url)
        response = _post(url, query, variables, token, request_id)
    if response.status_code != 200:
        raise GatewayError(
            f"gateway answered HTTP {response.status_code}: {response.text[:500]}",
            status=response.status_code,
            codes=_codes(_json_or_empty(response)),
        )
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise GatewayError(f"gateway errors: {body['errors']}", codes=_codes(body))
    data: dict[str, Any] = body["data"]
    return data


def _token(url: str) -> tuple[str, ClientCredentials | None]:
    """The bearer token; a refused or unconfigured credential as a GatewayError (4xx ones are not retried)."""
    try:
        return bearer_token(url)
    except CredentialError as exc:
        raise GatewayError(str(exc), status=exc.status or 401, codes=(exc.code,) if exc.code else ()) from exc


def _post(url: str, query: str, variables: dict[str, Any], token: str, request_id: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}", "x-request-id": request_id}
    return httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _codes(body: dict[str, Any]) -> tuple[str, ...]:
    errors = body.get("errors") or []
    return tuple(str(e.get("extensions", {}).get("code")) for e in errors if isinstance(e, dict))


def is_permanent(error: BaseException) -> bool:
    """True for failures a retry cannot fix: bad input (an unknown group, invalid points) or a gateway refusal (no
    permission, bad token, malformed request). Network errors, 5xx and masked unexpected errors are transient."""
    if isinstance(error, GatewayError):
        return not error.retryable
    return isinstance(error, ValueError | TypeError | KeyError)


def retry_if_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's `retry_condition_fn`: retry only what a retry can fix (see `is_permanent`)."""
    error = state.data
    return not (isinstance(error, BaseException) and is_permanent(error))
