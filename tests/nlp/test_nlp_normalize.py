"""Folding of messages before matching: scripts, widths, invisible characters, emoji, links."""

from __future__ import annotations

import pytest

from nlp.normalize import MAX_INPUT_CHARS, Normalizer


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    """One converter for the module."""
    return Normalizer()


def test_traditional_is_folded_to_simplified(normalizer: Normalizer) -> None:
    assert normalizer.normalize("樓上裝修噪音太大").text == "楼上装修噪音太大"


def test_taiwan_and_hong_kong_variants_fold_to_the_same_text(normalizer: Normalizer) -> None:
    assert normalizer.normalize("樓道裡著火了").text == normalizer.normalize("楼道里着火了").text


def test_full_width_forms_become_half_width(normalizer: Normalizer) -> None:
    assert normalizer.normalize("ＡＢＣ１２３，？！　电梯").text == "abc123,?! 电梯"


def test_zero_width_and_control_characters_are_removed(normalizer: Normalizer) -> None:
    assert normalizer.normalize("电\u200b梯\u200d坏\ufeff了\x00\x07").text == "电梯坏了"


def test_lone_surrogates_do_not_break_the_converter(normalizer: Normalizer) -> None:
    assert normalizer.normalize("電梯\ud800壞了").text == "电梯坏了"


def test_emoji_are_stripped_and_emoji_only_is_flagged(normalizer: Normalizer) -> None:
    folded = normalizer.normalize("👍🏻👍🏻🙏")
    assert folded.text == ""
    assert folded.emoji_only
    assert not folded.has_content


def test_chat_client_stickers_count_as_emoji(normalizer: Normalizer) -> None:
    assert normalizer.normalize("[强][抱拳]").emoji_only
    assert normalizer.normalize("[求助]电梯坏了").text == "[求助]电梯坏了"


def test_emoji_around_words_leave_the_words(normalizer: Normalizer) -> None:
    folded = normalizer.normalize("停水了😭😭")
    assert folded.text == "停水了"
    assert folded.had_emoji and not folded.emoji_only


def test_mentions_and_links_are_dropped(normalizer: Normalizer) -> None:
    folded = normalizer.normalize("@wang_louzhang 看这个 https://example.com/a?b=1 电梯坏了")
    assert folded.text == "看这个 电梯坏了"
    assert folded.had_url and folded.had_mention


def test_repeated_laughter_is_shortened(normalizer: Normalizer) -> None:
    assert normalizer.normalize("哈哈哈哈哈哈哈哈！！！！！").text == "哈哈哈!!!"


def test_whitespace_is_collapsed(normalizer: Normalizer) -> None:
    assert normalizer.normalize("  电梯 \n\t 坏了  ").text == "电梯 坏了"


def test_very_long_input_is_capped(normalizer: Normalizer) -> None:
    folded = normalizer.normalize("电" * 4096)
    assert folded.truncated
    assert len(folded.text) <= MAX_INPUT_CHARS


@pytest.mark.parametrize("value", [None, 42, b"bytes"])
def test_non_text_input_does_not_raise(normalizer: Normalizer, value: object) -> None:
    assert isinstance(normalizer.normalize(value).text, str)
