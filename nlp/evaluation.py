"""Measures the classifier on a labelled file: request detection, categories, urgency, asking, speed."""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.classification import NONE, Classification, Classifier

_TRUE = {"1", "true", "yes", "y", "是", "urgent"}


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One message of an evaluation file with its gold label (and urgency when the file has it)."""

    text: str
    label: str
    urgent: bool | None = None


@dataclass(frozen=True, slots=True)
class CategoryFigures:
    """Precision, recall and F1 of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class EvaluationReport:
    """Every figure that `eval` prints."""

    count: int
    labels: list[str]
    per_category: dict[str, CategoryFigures]
    macro_f1: float
    request_precision: float
    request_recall: float
    category_accuracy: float
    category_accuracy_detected: float
    urgent_precision: float | None
    urgent_recall: float | None
    ask_rate: float
    ask_rate_of_requests: float
    messages_per_second: float
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistakes: list[tuple[LabelledMessage, Classification]] = field(default_factory=list)


def read_labelled(path: str | Path, aliases: Mapping[str, str] | None = None) -> list[LabelledMessage]:
    """Read a CSV or TSV file with columns text and label (urgent optional), in any order.

    Labels are read without case (``Repair`` is ``repair``); ``aliases`` maps other spellings of a label
    (a category's display name such as 报修 or 報修) to its code.
    """
    aliases = aliases or {}
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
        delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in header else ","
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        fields = {name.strip().lower(): name for name in reader.fieldnames or []}
        if "text" not in fields or "label" not in fields:
            raise ValueError(f"{path}: needs the columns text and label, found {', '.join(fields) or 'none'}")
        urgent_field = fields.get("urgent")
        messages = []
        for row in reader:
            urgent = None
            if urgent_field is not None:
                urgent = (row.get(urgent_field) or "").strip().lower() in _TRUE
            label = (row.get(fields["label"]) or "").strip().lower() or NONE
            label = aliases.get(label, label)
            messages.append(LabelledMessage(text=row.get(fields["text"]) or "", label=label, urgent=urgent))
    return messages


def evaluate(
    classifier: Classifier, messages: Sequence[LabelledMessage], threshold: float = 0.5
) -> EvaluationReport:
    """Classify every message and compare with its gold label."""
    started = time.perf_counter()
    verdicts = [classifier.classify(message.text) for message in messages]
    elapsed = time.perf_counter() - started
    confusion: Counter[tuple[str, str]] = Counter(
        (m.label, v.category) for m, v in zip(messages, verdicts, strict=True)
    )
    labels = _ordered_labels(m.label for m in messages)
    for verdict in verdicts:
        if verdict.category not in labels:
            labels.append(verdict.category)
    per_category = {}
    for label in labels:
        true_positive = confusion[(label, label)]
        predicted = sum(count for (_, pred), count in confusion.items() if pred == label)
        support = sum(count for (gold, _), count in confusion.items() if gold == label)
        precision = _ratio(true_positive, predicted)
        recall = _ratio(true_positive, support)
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_category[label] = CategoryFigures(precision, recall, f1, support)
    gold_labels = [label for label in labels if per_category[label].support]
    macro_f1 = sum(per_category[label].f1 for label in gold_labels) / max(len(gold_labels), 1)

    pairs = list(zip(messages, verdicts, strict=True))
    gold_requests = [(m, v) for m, v in pairs if m.label != NONE]
    predicted_requests = [(m, v) for m, v in pairs if v.category != NONE]
    detected = [(m, v) for m, v in gold_requests if v.category != NONE]
    request_precision = _ratio(sum(m.label != NONE for m, _ in predicted_requests), len(predicted_requests))
    request_recall = _ratio(len(detected), len(gold_requests))
    category_accuracy = _ratio(sum(m.label == v.category for m, v in gold_requests), len(gold_requests))
    category_accuracy_detected = _ratio(sum(m.label == v.category for m, v in detected), len(detected))

    urgent_precision = urgent_recall = None
    if any(m.urgent is not None for m in messages):
        gold_urgent = [(m, v) for m, v in pairs if m.urgent]
        predicted_urgent = [(m, v) for m, v in pairs if v.urgent]
        urgent_recall = _ratio(sum(v.urgent for _, v in gold_urgent), len(gold_urgent))
        urgent_precision = _ratio(sum(bool(m.urgent) for m, _ in predicted_urgent), len(predicted_urgent))
    asked = sum(1 for _, v in predicted_requests if v.confidence < threshold)
    mistakes = [
        (m, v) for m, v in pairs if m.label != v.category or (m.urgent is not None and m.urgent != v.urgent)
    ]
    return EvaluationReport(
        count=len(messages),
        labels=labels,
        per_category=per_category,
        macro_f1=macro_f1,
        request_precision=request_precision,
        request_recall=request_recall,
        category_accuracy=category_accuracy,
        category_accuracy_detected=category_accuracy_detected,
        urgent_precision=urgent_precision,
        urgent_recall=urgent_recall,
        ask_rate=_ratio(asked, len(messages)),
        ask_rate_of_requests=_ratio(asked, len(predicted_requests)),
        messages_per_second=len(messages) / elapsed if elapsed > 0 else float("inf"),
        confusion=confusion,
        mistakes=mistakes,
    )


def format_report(report: EvaluationReport, name: str = "", show_mistakes: bool = False) -> str:
    """The report as the plain-text table that `eval` prints."""
    lines = [f"messages: {report.count}" + (f"  ({name})" if name else "")]
    lines.append("")
    lines.append(f"{'category':<12}{'precision':>10}{'recall':>10}{'F1':>8}{'support':>9}")
    for label in report.labels:
        figures = report.per_category[label]
        lines.append(
            f"{label:<12}{figures.precision:>10.3f}{figures.recall:>10.3f}{figures.f1:>8.3f}{figures.support:>9d}"
        )
    lines.append("")
    lines.append(f"macro-F1 (labels present in the file): {report.macro_f1:.3f}")
    lines.append(f"request precision: {report.request_precision:.3f}")
    lines.append(f"request recall:    {report.request_recall:.3f}")
    lines.append(
        f"category accuracy on requests: {report.category_accuracy:.3f}  (on detected requests: {report.category_accuracy_detected:.3f})"
    )
    if report.urgent_recall is not None:
        lines.append(
            f"urgent recall: {report.urgent_recall:.3f}  urgent precision: {report.urgent_precision:.3f}"
        )
    lines.append(
        f"ask rate (requests below the confidence threshold): {report.ask_rate:.3f} of messages, "
        f"{report.ask_rate_of_requests:.3f} of predicted requests"
    )
    lines.append(f"speed: {report.messages_per_second:,.0f} messages/s")
    lines.append("")
    lines.append("confusion matrix (rows: gold, columns: predicted)")
    short = [label[:6] for label in report.labels]
    lines.append(f"{'':<12}" + "".join(f"{label:>7}" for label in short))
    for gold in report.labels:
        if not report.per_category[gold].support:
            continue
        lines.append(
            f"{gold:<12}" + "".join(f"{report.confusion[(gold, pred)]:>7d}" for pred in report.labels)
        )
    if show_mistakes and report.mistakes:
        lines.append("")
        lines.append("mistakes (gold → predicted, confidence, rule):")
        for message, verdict in report.mistakes:
            gold = message.label + ("!" if message.urgent else "")
            predicted = verdict.category + ("!" if verdict.urgent else "")
            lines.append(
                f"  {gold} → {predicted} {verdict.confidence:.2f} {verdict.rule}: {message.text[:80]}"
            )
    return "\n".join(lines) + "\n"


def _ordered_labels(labels: Iterable[str]) -> list[str]:
    """Gold labels in the default priority order, unknown ones after, none last."""
    order = [
        "safety",
        "care",
        "repair",
        "dispute",
        "parking",
        "sanitation",
        "property",
        "consult",
        "suggestion",
        "other",
    ]
    seen = set(labels)
    ordered = [label for label in order if label in seen]
    ordered += sorted(seen - set(order) - {NONE})
    if NONE in seen:
        ordered.append(NONE)
    return ordered


def _ratio(numerator: float, denominator: float) -> float:
    """A ratio that is 0 when there is nothing to divide by."""
    return numerator / denominator if denominator else 0.0
