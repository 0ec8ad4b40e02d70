"""Test doubles for fast service tests: a rule-table classifier (the real one is tested in tests/nlp)."""

from __future__ import annotations

from bot.core.classification import NONE, Classification

NAMES = {
    "repair": "报修", "safety": "安全隐患", "dispute": "邻里纠纷", "property": "物业服务", "other": "其他诉求",
    "none": "非诉求",
}


class TableClassifier:
    """Classifies by a fixed table of substrings, so service tests control the verdict exactly."""

    def __init__(self, table: dict[str, tuple[str, bool, float]] | None = None) -> None:
        self.table = table or {
            "电梯坏了": ("repair", False, 0.9),
            "电梯又坏了": ("repair", False, 0.9),
            "路灯坏了": ("repair", False, 0.9),
            "着火": ("safety", True, 0.95),
            "好像有点": ("repair", False, 0.3),
            "物业费": ("property", False, 0.9),
        }

    def classify(self, text: str) -> Classification:
        """The first table entry found in the text, else none."""
        for needle, (category, urgent, confidence) in self.table.items():
            if needle in text:
                return Classification(text, category, urgent, confidence, (needle,), "table")
        return Classification(text, NONE, False, 0.9, (), "table")

    def category_name(self, code: str, locale: str = "zh-Hans") -> str:
        """Chinese display name."""
        return NAMES.get(code, code)

    threshold = 0.5
    codes = ("safety", "repair", "dispute", "property", "other")

    def with_keywords(
        self, category: str, add: dict[str, float] | None = None, remove: tuple[str, ...] | list[str] = ()
    ) -> TableClassifier:
        """A copy whose table gains (or loses) substrings for a category."""
        table = {k: v for k, v in self.table.items() if k not in remove}
        for word in add or {}:
            table[word] = (category, False, 0.9)
        return TableClassifier(table)
