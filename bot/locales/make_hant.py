"""Regenerate the Traditional Chinese catalog from the Simplified one: ``python -m bot.locales.make_hant``.

zh-Hant.yaml is zh-Hans.yaml converted line by line with OpenCC ``s2twp`` (Taiwan forms and phrases);
keys and ``{placeholders}`` are ASCII and pass through unchanged. Edit zh-Hans.yaml, then run this.
"""

from __future__ import annotations

from pathlib import Path

import opencc

HERE = Path(__file__).parent
HEADER = "# 繁體中文（由簡體目錄以 OpenCC s2twp 轉換後校對）。佔位符用 {name} 形式；改文字不要改佔位符。"


def convert(simplified: str) -> str:
    """The zh-Hant catalog text for a zh-Hans catalog text."""
    converter = opencc.OpenCC("s2twp")
    lines = [converter.convert(line) for line in simplified.splitlines()]
    if lines and lines[0].startswith("#"):
        lines[0] = HEADER
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    source = (HERE / "zh-Hans.yaml").read_text(encoding="utf-8")
    (HERE / "zh-Hant.yaml").write_text(convert(source), encoding="utf-8")
