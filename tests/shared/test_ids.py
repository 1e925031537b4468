"""Row ids are version 7 UUIDs that sort in the order they were made, within one millisecond too."""

import time
import uuid
from unittest import mock

from yutang_shared.ids import uuid7


def test_ids_are_version_7_and_unique_and_sort_in_the_order_they_were_made() -> None:
    ids = [uuid7() for _ in range(20_000)]

    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert [i.bytes for i in ids] == sorted(i.bytes for i in ids)  # PostgreSQL compares uuids byte by byte


def test_ids_made_in_the_same_millisecond_still_increase() -> None:
    frozen = time.time_ns()
    with mock.patch("yutang_shared.ids.time.time_ns", return_value=frozen):
        ids = [uuid7() for _ in range(1_000)]

    assert len({i.int >> 80 for i in ids}) == 1
    assert ids == sorted(ids)


def test_a_clock_that_steps_back_does_not_reorder_ids() -> None:
    first = uuid7()
    with mock.patch("yutang_shared.ids.time.time_ns", return_value=time.time_ns() - 60_000_000_000):
        after_the_step = uuid7()

    assert after_the_step > first
    assert after_the_step.int >> 80 == first.int >> 80
