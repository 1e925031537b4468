"""What points payment use cases return."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from loyalty.payment.models import PaymentStatus, PointsPayment


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A quote and its hold as it stands; `replayed` when the call repeated an earlier one and changed nothing."""

    id: uuid.UUID
    member_id: uuid.UUID
    store_code: str
    order_amount_fen: int
    points: int
    amount_fen: int
    status: PaymentStatus
    expires_at: datetime
    replayed: bool = False

    @classmethod
    def of(cls, row: PointsPayment, *, status: PaymentStatus | None = None, replayed: bool = False) -> PaymentView:
        return cls(
            id=row.id,
            member_id=row.member_id,
            store_code=row.store_code,
            order_amount_fen=row.order_amount_fen,
            points=row.points,
            amount_fen=row.amount_fen,
            status=status or PaymentStatus(row.status),
            expires_at=row.expires_at,
            replayed=replayed,
        )
