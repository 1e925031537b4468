"""Pure rules of tags: name limits, the WeCom budget, and the default automatic tags (category → group → tag with
its rule in the audience rule language) that ship with Yutang."""

from __future__ import annotations

from members.insights.rules import ConsumerType
from members.orders.models import SalesChannel
from members.profile.models import SourceChannel

WECOM_TAG_LIMIT = 3000  # WeCom allows at most 3 000 corp tags in total
MAX_BULK = 100
DEFAULT_CATEGORY = "automatic"
RULE_ACTOR = "rule"

Default = tuple[str, str, dict[str, object]]  # group, tag, rule


def _cond(name: str, **params: object) -> dict[str, object]:
    return {"condition": name, **params}


def _defaults() -> list[Default]:
    found: list[Default] = []
    found += [("consumer type", c.value, _cond("consumer_type", **{"in": [c.value]})) for c in ConsumerType]
    found += [("first-order channel", c.value, _cond("first_order_channel", **{"in": [c.value]})) for c in SalesChannel]
    found += [("first-order month", f"{m:02d}", _cond("first_order_month", month=m)) for m in range(1, 13)]
    bands = [
        ("< 100 yuan", None, 9_999),
        ("100–499 yuan", 10_000, 49_999),
        ("500–1999 yuan", 50_000, 199_999),
        ("≥ 2000 yuan", 200_000, None),
    ]
    for name, low, high in bands:
        limits = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        found.append(("monthly spend band", name, _cond("monthly_spend_fen", **limits)))
    found += [("source", c.value, _cond("source_channel", **{"in": [c.value]})) for c in SourceChannel]
    found += [
        ("expected repurchase", "due within 7 days", _cond("repurchase_due", from_days=0, to_days=7)),
        ("expected repurchase", "due in 8–30 days", _cond("repurchase_due", from_days=8, to_days=30)),
        ("expected repurchase", "overdue by up to 30 days", _cond("repurchase_due", from_days=-30, to_days=-1)),
    ]
    return found


DEFAULT_TAGS: tuple[Default, ...] = tuple(_defaults())


def clean_name(name: str, limit: int = 64) -> str | None:
    """The trimmed name, or None when it is empty, too long or not printable."""
    cleaned = name.strip()
    return cleaned if 1 <= len(cleaned) <= limit and cleaned.isprintable() else None
