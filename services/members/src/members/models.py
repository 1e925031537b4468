"""Tables of the members service as a whole rather than of one feature: its outbox (events it publishes are added
in the transaction of the change) and its inbox (events its consumers applied, each once)."""

from __future__ import annotations

from yutang_shared.inbox import inbox_table
from yutang_shared.outbox import outbox_table

OUTBOX = outbox_table("members")
INBOX = inbox_table("members")
