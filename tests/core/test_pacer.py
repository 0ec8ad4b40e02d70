"""The outbox pacer keeps Telegram's limits: 1/s per chat, 18/min per group, 25/s overall."""

from __future__ import annotations

from bot.outbox import Limits, Pacer


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_message_per_second_per_chat() -> None:
    now = FakeMonotonic()
    pacer = Pacer(Limits(), now)
    assert pacer.ready_at(5) == now.t
    pacer.record(5)
    assert pacer.ready_at(5) == now.t + 1.0
    assert pacer.ready_at(6) == now.t


def test_group_is_held_after_18_in_a_minute() -> None:
    now = FakeMonotonic()
    pacer = Pacer(Limits(), now)
    start = now.t
    for _ in range(18):
        assert pacer.ready_at(-100) <= now.t
        pacer.record(-100)
        now.t += 1.0
    assert pacer.ready_at(-100) == start + 60.0


def test_global_rate_is_25_per_second() -> None:
    now = FakeMonotonic()
    pacer = Pacer(Limits(), now)
    for chat in range(25):
        assert pacer.ready_at(chat) == now.t
        pacer.record(chat)
    assert pacer.ready_at(999) == now.t + 1.0


def test_retry_after_pauses_only_that_chat() -> None:
    now = FakeMonotonic()
    pacer = Pacer(Limits(), now)
    pacer.pause(7, 30)
    assert pacer.ready_at(7) == now.t + 30
    assert pacer.ready_at(8) == now.t
