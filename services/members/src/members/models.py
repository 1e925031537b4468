"""Tables of the members service as a whole rather than of one feature: its outbox (events it publishes are added
in the transaction of the change)."""

from __future__ import annotations

from yutang_shared.outbox import outbox_table

OUTBOX = outbox_table("members")
