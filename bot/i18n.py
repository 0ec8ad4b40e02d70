"""Message catalogs: every text the bot shows a user, per locale (zh-Hans first, then zh-Hant, en)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "zh-Hans"
SUPPORTED_LOCALES = ("zh-Hans", "zh-Hant", "en")


@cache
def _load(locale: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{locale}.yaml"
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        else:
            flat[prefix] = str(node).rstrip("\n")

    walk("", data)
    return flat


class Catalog:
    """Looks up and formats user-facing texts in one locale, falling back to zh-Hans."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {locale!r}; choose one of {', '.join(SUPPORTED_LOCALES)}")
        self.locale = locale
        self._texts = _load(locale)
        self._fallback = _load(DEFAULT_LOCALE)

    def t(self, key: str, **params: Any) -> str:
        """The text for ``key`` with ``params`` filled in; the key itself when it is missing."""
        template = self._texts.get(key) or self._fallback.get(key)
        if template is None:
            return key
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template

    def has(self, key: str) -> bool:
        """True when the key exists in this locale or the fallback."""
        return key in self._texts or key in self._fallback

    def keys(self) -> set[str]:
        """Every key of this locale's own file."""
        return set(self._texts)

    def duration(self, seconds: float) -> str:
        """A human duration such as 2小时15分 / 3天2小时 / 5分钟."""
        minutes = max(int(seconds // 60), 0)
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        if days:
            return self.t("time.days_hours", days=days, hours=hours)
        if hours:
            return self.t("time.hours_minutes", hours=hours, minutes=mins)
        return self.t("time.minutes", minutes=max(mins, 1))
