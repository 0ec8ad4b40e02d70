"""Every locale has every key of zh-Hans with the same placeholders; services use only known keys."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LOCALES, Catalog

ROOT = Path(__file__).resolve().parents[2]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED_LOCALES if loc != "zh-Hans"])
def test_locale_has_every_key_with_same_placeholders(locale: str) -> None:
    base, other = Catalog("zh-Hans"), Catalog(locale)
    assert base.keys() == other.keys()
    for key in base.keys():
        assert placeholders(base.t(key)) == placeholders(other._texts[key]), key


def test_every_literal_key_used_in_code_exists() -> None:
    catalog = Catalog("zh-Hans")
    pattern = re.compile(r"""(?:\bt|Error|Denied|Found|Input|Transition)\(\s*"([a-z_]+\.[a-z_.]+)\"""")
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if not catalog.has(key))
    assert not missing


def test_dynamic_keys_exist() -> None:
    from bot.core.model import ChatKind
    from bot.core.roles import Role
    from bot.core.states import CaseStatus

    catalog = Catalog("zh-Hans")
    keys = [f"state.{s.value}" for s in CaseStatus] + [f"role.{r.value}" for r in Role]
    keys += [f"status.bound_{k.value}" for k in ChatKind]
    keys += [f"event.{k}" for k in ("opened", "claimed", "resolved", "explained", "rated_satisfied", "rated_unsatisfied")]
    assert [k for k in keys if not catalog.has(k)] == []


def test_unknown_locale_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported locale"):
        Catalog("fr")


def test_duration_reads_naturally() -> None:
    catalog = Catalog("zh-Hans")
    assert catalog.duration(135 * 60) == "2小时15分"
    assert catalog.duration(30) == "1分钟"
    assert catalog.duration(26 * 3600) == "1天2小时"


async def test_every_command_has_a_menu_description(core) -> None:  # type: ignore[no-untyped-def]
    """setMyCommands shows these in Telegram's menu: a missing one would show the raw key."""
    for locale in SUPPORTED_LOCALES:
        catalog = Catalog(locale)
        missing = [name for name in core.services.command_names if not catalog.has(f"commands.{name}")]
        assert not missing, (locale, missing)
