"""What the request classifier tells the core about one message, and the port it implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

NONE = "none"


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict on one message.

    ``category`` is a taxonomy code (``repair``, ``safety`` …, ``other``) or ``none`` for chat.
    ``confidence`` is in 0–1; below the community's threshold the bot asks the author.
    """

    text: str
    category: str
    urgent: bool
    confidence: float
    keywords: tuple[str, ...] = ()
    rule: str = ""
    tokens: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_request(self) -> bool:
        """True when the message is a request of any category (not chat)."""
        return self.category != NONE


class Classifier(Protocol):
    """Recognises requests in residents' messages."""

    def classify(self, text: str) -> Classification:
        """Classify one message; never raises on any input."""
        ...

    def category_name(self, code: str, locale: str = "zh-Hans") -> str:
        """The display name of a category code in a locale (falls back to zh-Hans, then the code)."""
        ...

    @property
    def threshold(self) -> float:
        """Confidence below which the bot asks the author instead of deciding."""
        ...

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in priority order (without ``none``)."""
        ...

    def with_keywords(
        self, category: str, add: dict[str, float] | None = None, remove: tuple[str, ...] | list[str] = ()
    ) -> Classifier:
        """A new classifier with keywords of one category added, re-weighted or removed."""
        ...
