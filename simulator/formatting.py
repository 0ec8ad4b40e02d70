"""Message text the way Telegram sees it: parse modes to plain text + entities, auto-detected entities.

Offsets and lengths of entities are in UTF-16 code units, as in the Bot API. Error texts follow
Telegram's ("can't parse entities: ..."), so a bot that sends broken HTML fails here as it would there.
"""

from __future__ import annotations

import html
import re
from typing import Any

from simulator.errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_TAGS = {*_HTML_SIMPLE, "a", "span", "tg-emoji", "blockquote"}
_ENTITY_REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}(?![\w@])")
_HASHTAG = re.compile(r"(?<![\w#])#(?!\d+\b)\w+")
_URL = re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_NO_AUTO_INSIDE = {"code", "pre", "text_link", "url", "text_mention"}

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """Return the length of `text` in UTF-16 code units, the unit of entity offsets."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


class _Builder:
    """Accumulates plain text and tracks the UTF-16 offset while a parser walks the input."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0

    def add(self, text: str) -> None:
        """Append plain text."""
        if text:
            self.parts.append(text)
            self.offset += utf16_len(text)

    def text(self) -> str:
        """Return the accumulated plain text."""
        return "".join(self.parts)


def _byte_offset(text: str, index: int) -> int:
    """Return the UTF-8 byte offset of character `index`, as Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


def _parse_error(detail: str) -> ApiError:
    """Build Telegram's "can't parse entities" error."""
    return bad_request(f"can't parse entities: {detail}")


def _unescape_html(text: str) -> str:
    """Decode the character references Telegram accepts; leave unknown ones as they are."""

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED_REFS.get(ref, match.group(0))

    return _ENTITY_REF.sub(repl, text) if "&" in text else text


_ATTR = re.compile(r"""\s*([a-zA-Z_-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-flavoured HTML into plain text and entities, or raise the 400 Telegram raises."""
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[Entity] = []
    i, n = 0, len(source)
    while i < n:
        lt = source.find("<", i)
        if lt < 0:
            out.add(_unescape_html(source[i:]))
            break
        out.add(_unescape_html(source[i:lt]))
        gt = source.find(">", lt)
        if source.startswith("</", lt):
            if gt < 0:
                raise _parse_error(f"Unclosed end tag at byte offset {_byte_offset(source, lt)}")
            name = source[lt + 2 : gt].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(source, lt)}")
            open_name, start, attrs = stack.pop()
            if name and name != open_name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {_byte_offset(source, lt)}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            _close_html_entity(open_name, start, out.offset - start, attrs, entities)
            i = gt + 1
            continue
        j = lt + 1
        while j < n and not source[j].isspace() and source[j] not in ">/":
            j += 1
        name = source[lt + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, lt)}')
        if gt < 0:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(source, lt)}")
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(source[j:gt].rstrip("/"))
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error('Tag "span" must have class "tg-spoiler"')
        stack.append((name, out.offset, attrs))
        i = gt + 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), _sorted(entities)


def _close_html_entity(
    name: str, offset: int, length: int, attrs: dict[str, str], into: list[Entity]
) -> None:
    """Turn a closed HTML tag into its entity (or merge a <code class> into the enclosing <pre>)."""
    if length <= 0:
        return
    entity: Entity = {"offset": offset, "length": length}
    if name in _HTML_SIMPLE:
        entity["type"] = _HTML_SIMPLE[name]
        if name == "code" and attrs.get("class", "").startswith("language-"):
            language = attrs["class"][len("language-") :]
            for other in into:
                if other["type"] == "pre" and other["offset"] == offset and other["length"] == length:
                    other["language"] = language
                    return
            entity["language"] = language  # kept until the enclosing <pre> closes
        if name == "pre":
            inner = [
                e for e in into if e["type"] == "code" and e["offset"] == offset and e["length"] == length
            ]
            for code in inner:
                into.remove(code)
                if "language" in code:
                    entity["language"] = code["language"]
    elif name == "span":
        entity["type"] = "spoiler"
    elif name == "a":
        href = attrs.get("href", "")
        if not href:
            return
        match = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if match:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(match.group(1)), "is_bot": False, "first_name": ""}
        else:
            entity["type"] = "text_link"
            entity["url"] = href
    elif name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    into.append(entity)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities, refusing unescaped reserved characters like Telegram."""
    out = _Builder()
    stack: list[_MdOpen] = []
    entities: list[Entity] = []
    i, n = 0, len(source)
    quote_start: int | None = None
    at_line_start = True
    while i < n:
        c = source[i]
        top = stack[-1].kind if stack else None
        if at_line_start and c == ">" and top is None:
            if quote_start is None:
                quote_start = out.offset
            i += 1
            at_line_start = False
            continue
        if at_line_start and quote_start is not None:
            _add_entity(entities, "blockquote", quote_start, out.offset - quote_start - 1)  # not the "\n"
            quote_start = None
        at_line_start = False
        if c == "\\" and i + 1 < n and 0 < ord(source[i + 1]) <= 126:
            out.add(source[i + 1])
            i += 2
            continue
        if top == "pre":
            if source.startswith("```", i):
                _close_md(stack.pop(), entities, out)
                i += 3
            else:
                out.add(c)
                i += 1
            continue
        if top == "code":
            if c == "`":
                _close_md(stack.pop(), entities, out)
            else:
                out.add(c)
            i += 1
            continue
        if c == "\n":
            at_line_start = True
        if c not in _MDV2_RESERVED:
            out.add(c)
            i += 1
            continue
        # a reserved character: it must close the innermost entity or open a new one
        if (top == "bold" and c == "*") or (top == "strikethrough" and c == "~"):
            _close_md(stack.pop(), entities, out)
            i += 1
        elif top == "underline" and source.startswith("__", i):
            _close_md(stack.pop(), entities, out)
            i += 2
        elif top == "italic" and c == "_" and not source.startswith("__", i):
            _close_md(stack.pop(), entities, out)
            i += 1
        elif top == "spoiler" and source.startswith("||", i):
            _close_md(stack.pop(), entities, out)
            i += 2
        elif top == "text_link" and c == "]":
            opened = stack.pop()
            opened.url, i = _read_link_target(source, i + 1)
            _close_md(opened, entities, out)
        elif source.startswith("```", i):
            opened = _MdOpen("pre", out.offset, i)
            end_of_line = source.find("\n", i + 3)
            first_line = source[i + 3 : end_of_line] if end_of_line >= 0 else ""
            if end_of_line >= 0 and not any(ch.isspace() or ch == "`" for ch in first_line):
                opened.language = first_line
                i = end_of_line + 1
            else:
                i += 3
            stack.append(opened)
        else:
            kind, width = _MDV2_OPENERS.get(source[i : i + 2], (None, 0))
            if kind is None:
                kind, width = _MDV2_OPENERS.get(c, (None, 0))
            if kind is None:
                raise _parse_error(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
            stack.append(_MdOpen(kind, out.offset, i))
            i += width
    if stack:
        raise _parse_error(
            f"Can't find end of the entity starting at byte offset {_byte_offset(source, stack[-1].marker)}"
        )
    if quote_start is not None:
        _add_entity(entities, "blockquote", quote_start, out.offset - quote_start)
    return out.text(), _sorted(entities)


_MDV2_OPENERS = {
    "__": ("underline", 2),
    "||": ("spoiler", 2),
    "_": ("italic", 1),
    "*": ("bold", 1),
    "~": ("strikethrough", 1),
    "`": ("code", 1),
    "[": ("text_link", 1),
}


class _MdOpen:
    """An entity opened in MarkdownV2 and not yet closed."""

    __slots__ = ("kind", "language", "marker", "start", "url")

    def __init__(self, kind: str, start: int, marker: int) -> None:
        self.kind = kind
        self.start = start
        self.marker = marker
        self.language = ""
        self.url = ""


def _close_md(opened: _MdOpen, entities: list[Entity], out: _Builder) -> None:
    """Turn a closed MarkdownV2 entity into an entity dict."""
    extra: dict[str, str] = {}
    if opened.language:
        extra["language"] = opened.language
    if opened.kind == "text_link":
        extra["url"] = opened.url
    _add_entity(entities, opened.kind, opened.start, out.offset - opened.start, **extra)


def _read_link_target(source: str, i: int) -> tuple[str, int]:
    """Read "(url)" after a link's "]" and return the url and the index after ")"."""
    if i >= len(source) or source[i] != "(":
        raise _parse_error("Can't find end of a URL")
    j = i + 1
    url: list[str] = []
    while j < len(source) and source[j] != ")":
        if source[j] == "\\" and j + 1 < len(source):
            j += 1
        url.append(source[j])
        j += 1
    if j >= len(source):
        raise _parse_error(f"Can't find end of a url at byte offset {_byte_offset(source, i)}")
    return "".join(url), j + 1


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (*bold*, _italic_, `code`, ```pre```, [text](url)) into text and entities."""
    out = _Builder()
    entities: list[Entity] = []
    i, n = 0, len(source)
    closers = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}"
                )
            start = out.offset
            out.add(source[i + 3 : end])
            _add_entity(entities, "pre", start, out.offset - start)
            i = end + 3
        elif c in closers:
            end = source.find(c, i + 1)
            if end < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}"
                )
            start = out.offset
            out.add(source[i + 1 : end])
            _add_entity(entities, closers[c], start, out.offset - start)
            i = end + 1
        elif c == "[":
            end = source.find("]", i + 1)
            if end < 0 or end + 1 >= n or source[end + 1] != "(":
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}"
                )
            close = source.find(")", end + 2)
            if close < 0:
                raise _parse_error(f"Can't find end of a url at byte offset {_byte_offset(source, end + 1)}")
            start = out.offset
            out.add(source[i + 1 : end])
            _add_entity(entities, "text_link", start, out.offset - start, url=source[end + 2 : close])
            i = close + 1
        else:
            out.add(c)
            i += 1
    return out.text(), _sorted(entities)


def _add_entity(entities: list[Entity], kind: str, offset: int, length: int, **extra: Any) -> None:
    """Append an entity unless it is empty."""
    if length > 0:
        entities.append({"type": kind, "offset": offset, "length": length, **extra})


def _sorted(entities: list[Entity]) -> list[Entity]:
    """Order entities as Telegram does: by offset, longer first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply a parse mode (None, HTML, MarkdownV2, Markdown; any case) to `text`."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode}")


def _to_utf16_offsets(text: str) -> list[int] | None:
    """Map character index -> UTF-16 offset, or None when the two are the same (BMP-only text)."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return None
    offsets = [0] * (len(text) + 1)
    acc = 0
    for index, ch in enumerate(text):
        offsets[index] = acc
        acc += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = acc
    return offsets


def detect_entities(text: str, existing: list[Entity] | None = None) -> list[Entity]:
    """Add the entities Telegram finds by itself (bot_command, mention, hashtag, url) to `existing`."""
    entities = list(existing or [])
    if not any(ch in text for ch in "/@#w") and "http" not in text:
        return entities
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NO_AUTO_INSIDE]
    offsets = _to_utf16_offsets(text)
    for kind, pattern in (
        ("bot_command", _COMMAND),
        ("url", _URL),
        ("mention", _MENTION),
        ("hashtag", _HASHTAG),
    ):
        for match in pattern.finditer(text):
            start, end = match.span()
            if offsets is not None:
                start, end = offsets[start], offsets[end]
            if any(start < b_end and b_start < end for b_start, b_end in blocked):
                continue
            entities.append({"offset": start, "length": end - start, "type": kind})
            blocked.append((start, end))
    return _sorted(entities)


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_message_text(
    raw: str,
    parse_mode: str | None,
    entities: list[Entity] | None,
    *,
    limit: int,
    empty_error: str | None,
    long_error: str,
) -> tuple[str, list[Entity]]:
    """Turn a bot's text/caption parameters into (text, entities), with Telegram's checks and errors."""
    if entities is not None:
        text, found = raw, [dict(e) for e in entities]
    else:
        text, found = parse_text(raw, parse_mode)
    text, found = trim(text, found)
    if not text:
        if empty_error is not None:
            raise bad_request(empty_error)
        return "", []
    if len(text) > limit:
        raise bad_request(long_error)
    return text, detect_entities(text, found)
