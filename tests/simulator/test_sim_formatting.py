"""Parse modes and auto-detected entities, checked against what Telegram answers."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.formatting import (
    detect_entities,
    format_message_text,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)


def test_html_becomes_plain_text_and_entities() -> None:
    text, entities = parse_html(
        '<b>报修</b> &lt;3单元&gt; <a href="https://x.cn">详情</a> <pre><code class="language-py">x</code></pre>'
    )
    assert text == "报修 <3单元> 详情 x"
    assert entities == [
        {"offset": 0, "length": 2, "type": "bold"},
        {"offset": 9, "length": 2, "type": "text_link", "url": "https://x.cn"},
        {"offset": 12, "length": 1, "type": "pre", "language": "py"},
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
    ],
)
def test_broken_html_is_refused_like_telegram(source: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.code == 400
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


def test_markdown_v2_entities_and_reserved_characters() -> None:
    text, entities = parse_markdown_v2(r"*粗* _斜_ __下__ ~删~ ||藏|| `代码` [链接](https://x.cn) 1\.5")
    assert text == "粗 斜 下 删 藏 代码 链接 1.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(ApiError, match="reserved"):
        parse_markdown_v2("1.5")
    with pytest.raises(ApiError, match="Can't find end of the entity"):
        parse_markdown_v2("*open")


def test_auto_entities_use_utf16_offsets() -> None:
    text = "😀 /help@bot_name https://example.com @someone"
    kinds = [(e["type"], e["offset"], e["length"]) for e in detect_entities(text)]
    assert kinds == [("bot_command", 3, 14), ("url", 18, 19), ("mention", 38, 8)]
    assert utf16_len("😀a") == 3


def test_length_counts_after_parsing_and_trimming() -> None:
    text, _ = format_message_text("  <b>hi</b>  ", "HTML", None, limit=10, empty_error="e", long_error="l")
    assert text == "hi"
    with pytest.raises(ApiError, match="message text is empty"):
        format_message_text(
            "<b> </b>", "HTML", None, limit=10, empty_error="message text is empty", long_error="l"
        )
