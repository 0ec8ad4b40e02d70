"""Text folding for the classifier: Traditional → Simplified, full-width → half-width, noise removed."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

import opencc

# A Telegram message is at most 4096 characters; requests are said in the first few hundred, so work
# on a bounded prefix to keep every message well under a millisecond.
MAX_INPUT_CHARS = 1200

_URL = re.compile(
    r"(?:https?://|ftp://|www\.)\S+|\b[\w.-]+\.(?:com|cn|net|org|top|xyz|me|io)(?:/\S*)?\b", re.ASCII
)
# Telegram @usernames (ASCII), and chat-client display-name mentions followed by a space.
_MENTION = re.compile(r"@[A-Za-z0-9_]{2,32}|@[^\s@]{1,16}(?=\s)")
# Bracketed stickers of the common chat clients ([微笑], [强], [抱拳] …): names only, so that
# a bracketed word such as [通知] or [求助] survives.
_STICKER_NAMES = (
    "微笑|撇嘴|色|发呆|得意|流泪|害羞|闭嘴|睡|大哭|尴尬|发怒|调皮|呲牙|惊讶|难过|酷|冷汗|抓狂|吐|偷笑|愉快|"
    "白眼|傲慢|饥饿|困|惊恐|流汗|憨笑|悠闲|奋斗|咒骂|疑问|嘘|晕|疯了|衰|骷髅|敲打|再见|擦汗|抠鼻|鼓掌|"
    "糗大了|坏笑|左哼哼|右哼哼|哈欠|鄙视|委屈|快哭了|阴险|亲亲|吓|可怜|菜刀|西瓜|啤酒|咖啡|饭|猪头|玫瑰|"
    "凋谢|嘴唇|爱心|心碎|蛋糕|闪电|炸弹|刀|便便|月亮|太阳|礼物|拥抱|强|弱|握手|胜利|抱拳|勾引|拳头|"
    "差劲|爱你|no|ok|捂脸|奸笑|机智|皱眉|耶|吃瓜|加油|汗|天啊|emm|社会社会|旺柴|好的|打脸|哇|翻白眼|"
    "666|让我看看|叹气|苦涩|裂开|嘿哈|红包|发|福|烟花|爆竹|合十|赞|笑脸|生病|破涕为笑|脸红|恐惧|失望|无语"
)
_STICKER = re.compile(r"\[(?:" + _STICKER_NAMES + r")\]", re.IGNORECASE)
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols and pictographs extended
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2b00-\u2bff"  # arrows and stars
    "\u2300-\u23ff"  # technical (⌛ ⏰ …)
    "\ufe0e\ufe0f\u200d\u20e3"  # variation selectors, joiner, keycap
    "\U000e0020-\U000e007f"  # tag characters of flag sequences
    "\u3030\u303d\u3297\u3299\u00a9\u00ae\u2122\u2139\u2194-\u21aa"
    "]+"
)
# Control and format characters (zero-width spaces and joiners, bidi marks, BOM) and lone surrogates,
# which the Traditional→Simplified converter cannot encode.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
# Laughter and punctuation repeated more than three times say nothing more than three times do
# (a class of likely characters keeps this pass fast; any character would cost a match per position).
_REPEAT = re.compile(r"([哈啊呀嘿呵哦嗯额呜唉嘻草6!?.。~,、…])\1{3,}")
# Full-width ASCII and the ideographic space, the bulk of what NFKC changes in chat, by one
# translate; full NFKC (slow on Han text) runs only when something else needs it.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CONTENT = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# Forms that the converter leaves alone because they are also valid Simplified text, and regional
# characters that it maps to rare ones.
_VARIANTS = {"著火": "着火", "著急": "着急", "睡著": "睡着", "衞": "卫", "䢂": "电梯", "𨋢": "电梯"}
_VARIANT = re.compile("|".join(map(re.escape, _VARIANTS)))
_VARIANT_CHARS = frozenset(key[0] for key in _VARIANTS)


class NormalizedText(NamedTuple):
    """A message folded for matching, with what was removed from it (a tuple: cheap to build)."""

    text: str
    has_content: bool = True
    emoji_only: bool = False
    had_emoji: bool = False
    had_url: bool = False
    had_mention: bool = False
    truncated: bool = False


class Normalizer:
    """Folds residents' messages to one comparable form; build one per classifier."""

    def __init__(self) -> None:
        """Build the OpenCC Traditional→Simplified converter (a few milliseconds).

        tw2s is t2s plus the Taiwan variant forms: it also folds 看著/睡不著 to 看着/睡不着, which t2s
        leaves alone because 著 is valid Simplified too (著名).
        """
        self._converter = opencc.OpenCC("tw2s")

    def fold(self, text: str) -> str:
        """Fold a keyword or short string: NFKC, Simplified, lower case; nothing is removed."""
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
        return self._to_simplified(text).lower()

    def normalize(self, text: object) -> NormalizedText:
        """Fold a message for classification; never raises, whatever the input."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        truncated = len(text) > MAX_INPUT_CHARS
        if truncated:
            text = text[:MAX_INPUT_CHARS]
        text = _INVISIBLE.sub("", text)
        text = text.translate(_HALF_WIDTH)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        # The cheap membership tests spare most messages three regex passes.
        urls = mentions = stickers = 0
        if "." in text or "/" in text:
            text, urls = _URL.subn(" ", text)
        if "@" in text:
            text, mentions = _MENTION.subn(" ", text)
        text = self._to_simplified(text).lower()
        # Stickers after the fold, so that [強] is found as [强].
        if "[" in text:
            text, stickers = _STICKER.subn(" ", text)
        text, emoji = _EMOJI.subn(" ", text)
        if _REPEAT.search(text):
            text = _REPEAT.sub(r"\1\1\1", text)
        text = " ".join(text.split())
        had_emoji = bool(stickers or emoji)
        has_content = _CONTENT.search(text) is not None
        return NormalizedText(
            text, has_content, had_emoji and not has_content, had_emoji, bool(urls), bool(mentions), truncated
        )

    def _to_simplified(self, text: str) -> str:
        """Convert with OpenCC, then fix the few forms it leaves Traditional-looking."""
        if not text.isascii():
            text = self._converter.convert(text)
            if not _VARIANT_CHARS.isdisjoint(text):
                text = _VARIANT.sub(lambda match: _VARIANTS[match.group()], text)
        return text
