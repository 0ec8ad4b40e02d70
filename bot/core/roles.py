"""Roles a member can hold, and which of them may work on cases."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in the community."""

    RESIDENT = "resident"
    BUILDING_HEAD = "building_head"
    GRID_WORKER = "grid_worker"
    VOLUNTEER = "volunteer"
    PROPERTY = "property"
    ADMIN = "admin"


class ScopeKind(StrEnum):
    """What a role is scoped to."""

    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"


#: Roles that may claim, resolve and explain cases.
STAFF_ROLES: frozenset[Role] = frozenset(
    {Role.BUILDING_HEAD, Role.GRID_WORKER, Role.VOLUNTEER, Role.PROPERTY, Role.ADMIN}
)

#: Roles an admin may give with /grant (resident is what everyone is anyway).
GRANTABLE_ROLES: frozenset[Role] = STAFF_ROLES


def parse_role(text: str) -> Role | None:
    """The role named by ``text`` (code, case-insensitive), or None."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        return None
