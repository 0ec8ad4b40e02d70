"""A feature: a family of use cases that brings its own commands, buttons, dialogues and scheduled sweeps.

``BotServices`` collects them, so adding a feature (the say-it wall, activities, private reports …)
means writing one ``Feature`` subclass and registering it, not editing the dispatcher:

- ``commands()``: ``{"wall": handler}``; a handler returns the reply text (or None) for the chat;
- ``presses()``: ``{"wallpage": handler}`` keyed by the callback action (``c1:<action>:<id>[:arg]``);
- ``dialogues()``: ``{"activity": handler}`` keyed by ``Dialogue.kind``; called with the member's next
  message while their dialogue in that chat is open (state lives in the ``dialogues`` table);
- ``sweeps()``: ``{"digest_sweep": (func, seconds)}``; ``func(lock)`` runs on the leader instance only,
  ``lock`` is True on PostgreSQL (use ``FOR UPDATE SKIP LOCKED`` there), and returns how much it did.

Every handler runs inside the caller's transaction (one update, one unit of work) and must check
permissions itself, in the service, by raising ``PermissionDenied``/``BadInput``/``NotFound``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.callbacks import CallbackData
from bot.core.events import ButtonPress, Command, IncomingMessage, PressAnswer
from bot.core.model import Chat, Dialogue, Member
from bot.core.ports import UnitOfWork
from bot.services.base import Service

CommandHandler = Callable[[UnitOfWork, Member, Chat, Command], Awaitable[str | None]]
PressHandler = Callable[[UnitOfWork, Member, ButtonPress, CallbackData], Awaitable[PressAnswer]]
DialogueHandler = Callable[[UnitOfWork, Member, Chat, Dialogue, IncomingMessage], Awaitable[None]]
Sweep = Callable[[bool], Awaitable[int]]


class Feature(Service):
    """Base of a feature's service; override what the feature offers."""

    def commands(self) -> dict[str, CommandHandler]:
        """Slash commands this feature answers."""
        return {}

    def presses(self) -> dict[str, PressHandler]:
        """Inline-button actions this feature answers."""
        return {}

    def dialogues(self) -> dict[str, DialogueHandler]:
        """Dialogue kinds this feature continues with the member's next message."""
        return {}

    def sweeps(self) -> dict[str, tuple[Sweep, int]]:
        """Scheduled sweeps: name → (function taking ``lock``, interval in seconds)."""
        return {}
