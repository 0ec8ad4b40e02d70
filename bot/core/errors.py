"""Domain errors: each carries a message-catalog key and parameters that are safe to show a user."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A use case was refused; ``key`` names the user-facing message in the catalog."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}")


class PermissionDenied(DomainError):
    """The actor lacks the role this action needs."""

    key = "error.permission"


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the actor)."""

    key = "error.not_found"


class InvalidTransition(DomainError):
    """The case's state does not allow this action."""

    key = "error.transition"


class BadInput(DomainError):
    """The user's input cannot be understood."""

    key = "error.bad_input"
