"""Command-line entry points: classify messages from stdin, evaluate on a labelled file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from nlp.classifier import KeywordClassifier
from nlp.evaluation import evaluate, format_report, read_labelled
from nlp.taxonomy import TaxonomyError


def classify_main(
    stdin: TextIO,
    stdout: TextIO,
    explain: bool = False,
    *,
    taxonomy: str | Path | None = None,
    classifier: KeywordClassifier | None = None,
) -> int:
    """Classify one message per input line; print one JSON object per line (ensure_ascii=False)."""
    if classifier is None:
        try:
            classifier = KeywordClassifier(taxonomy)
        except TaxonomyError as error:
            stdout.write(json.dumps({"error": str(error)}, ensure_ascii=False) + "\n")
            return 2
    for line in stdin:
        text = line.rstrip("\r\n")
        if explain:
            record: dict[str, Any] = classifier.explain(text)
        else:
            verdict = classifier.classify(text)
            record = {
                "text": verdict.text,
                "category": verdict.category,
                "urgent": verdict.urgent,
                "confidence": verdict.confidence,
                "keywords": list(verdict.keywords),
                "rule": verdict.rule,
            }
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    stdout.flush()
    return 0


def eval_main(
    path: str | Path,
    stdout: TextIO,
    *,
    taxonomy: str | Path | None = None,
    show_mistakes: bool = False,
    classifier: KeywordClassifier | None = None,
) -> int:
    """Evaluate on a labelled CSV/TSV (text, label, optional urgent) and print the figures."""
    try:
        if classifier is None:
            classifier = KeywordClassifier(taxonomy)
        messages = read_labelled(path, aliases=classifier.label_aliases())
    except (OSError, ValueError) as error:
        stdout.write(f"error: {error}\n")
        return 2
    report = evaluate(classifier, messages, threshold=classifier.threshold)
    stdout.write(format_report(report, name=str(path), show_mistakes=show_mistakes))
    stdout.flush()
    return 0
