"""The case state machine: every allowed transition, and a clear refusal for anything else."""

from __future__ import annotations

from enum import StrEnum

from bot.core.errors import InvalidTransition


class CaseStatus(StrEnum):
    """Where a case is in its life."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    EXPLAINED = "explained"
    MERGED = "merged"
    REOPENED = "reopened"


class CaseAction(StrEnum):
    """What someone does to a case."""

    CLAIM = "claim"
    START = "start"
    RESOLVE = "resolve"
    EXPLAIN = "explain"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"
    RELEASE = "release"


S, A = CaseStatus, CaseAction

#: (state, action) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
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

#: States in which a case still needs work.
ACTIVE_STATES: frozenset[CaseStatus] = frozenset({S.OPEN, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED})


def next_status(current: CaseStatus, action: CaseAction) -> CaseStatus:
    """The state after ``action``; raises InvalidTransition (with a user-safe key) when refused."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            "error.transition", status=current.value, action=action.value
        ) from None
