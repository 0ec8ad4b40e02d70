"""Every allowed and every refused transition of the case state machine."""

from __future__ import annotations

import itertools

import pytest

from bot.core.errors import InvalidTransition
from bot.core.states import TRANSITIONS, CaseAction, CaseStatus, next_status

S, A = CaseStatus, CaseAction

EXPECTED = {
    (S.OPEN, A.CLAIM): S.ASSIGNED,
    (S.REOPENED, A.CLAIM): S.ASSIGNED,
    (S.ASSIGNED, A.START): S.IN_PROGRESS,
    (S.ASSIGNED, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
    (S.OPEN, A.EXPLAIN): S.EXPLAINED,
    (S.ASSIGNED, A.EXPLAIN): S.EXPLAINED,
    (S.IN_PROGRESS, A.EXPLAIN): S.EXPLAINED,
    (S.REOPENED, A.EXPLAIN): S.EXPLAINED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.EXPLAINED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.EXPLAINED, A.REOPEN): S.REOPENED,
    (S.OPEN, A.MERGE): S.MERGED,
    (S.ASSIGNED, A.RELEASE): S.OPEN,
    (S.IN_PROGRESS, A.RELEASE): S.OPEN,
}


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED, key=str))
def test_allowed_transition_reaches_expected_state(state: CaseStatus, action: CaseAction) -> None:
    assert next_status(state, action) == EXPECTED[(state, action)]


REFUSED = [pair for pair in itertools.product(S, A) if pair not in EXPECTED]


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=[f"{s.value}-{a.value}" for s, a in REFUSED])
def test_refused_transition_raises_with_user_safe_key(state: CaseStatus, action: CaseAction) -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(state, action)
    assert refused.value.key == "error.transition"
    assert refused.value.params == {"status": state.value, "action": action.value}


def test_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == EXPECTED


def test_closed_and_merged_are_final() -> None:
    for action in A:
        for final in (S.CLOSED, S.MERGED):
            with pytest.raises(InvalidTransition):
                next_status(final, action)
