"""Time-ordered row ids (UUID version 7, RFC 9562), increasing within a process."""

from __future__ import annotations

import os
import threading
import time
import uuid

_COUNTER_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) read as one number
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, counter) of the previous id


def uuid7() -> uuid.UUID:
    """A version 7 UUID: new rows land at the right end of a primary-key index, and ids made one after another in
    this process sort in the order they were made, even within one millisecond (the random tail then counts up from
    the previous id's), so rows written in one transaction list in creation order by `(created_at, id)`."""
    global _last
    with _lock:
        millis = max(time.time_ns() // 1_000_000, _last[0])
        counter = int.from_bytes(os.urandom(10)) >> (80 - _COUNTER_BITS)
        if millis == _last[0] and counter <= _last[1]:
            counter = _last[1] + 1  # 2**74 ids in one millisecond would overflow: not reachable
        _last = (millis, counter)
    rand_a, rand_b = counter >> 62, counter & ((1 << 62) - 1)
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)
