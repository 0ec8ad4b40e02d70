"""Keyword classifier of residents' messages: weighted domain keywords, cues and patterns, jieba for word boundaries."""

from __future__ import annotations

import collections
import logging
import math
import re
import re._parser as sre_parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import jieba
import numpy as np

from bot.core.classification import NONE, Classification
from nlp.model import Learned, TextModel, default_model
from nlp.normalize import NormalizedText, Normalizer
from nlp.segmenter import build_tokenizer
from nlp.taxonomy import Taxonomy, TaxonomyError, default_taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

# Matching looks at the first characters only: a 4096-character rant is classified on its opening,
# which is where residents say what is wrong.
MAX_SCAN_CHARS = 600
MAX_TOKEN_CHARS = 300
# Occurrences of one single-character keyword checked against word boundaries before giving up.
_MAX_BOUNDARY_CHECKS = 4
# The pseudo-category of pattern weights that count as request cues (`none` counts as chat cues).
_REQUEST_EVIDENCE = "request"
_CLAUSE = re.compile(r"[^,.!?;:。、~…\s]+")


@dataclass(frozen=True, slots=True)
class _Meaning:
    """What a matched term is evidence of: category weights, request-cue and chat-cue weight."""

    categories: tuple[tuple[str, float], ...] = ()
    request: float = 0.0
    chat: float = 0.0
    polite: bool = False


class _Matcher:
    """The compiled form of a taxonomy: a term dictionary for the scan and compiled patterns.

    Immutable once built, so any number of threads may read it; a change of keywords builds a new one.
    """

    def __init__(self, taxonomy: Taxonomy, normalizer: Normalizer) -> None:
        """Fold every term like a message; build the automaton that finds terms and regex triggers."""
        politeness = {normalizer.fold(term) for term in taxonomy.politeness}
        categories: dict[str, dict[str, float]] = {}
        request: dict[str, float] = {}
        chat: dict[str, float] = {}
        for category in taxonomy.categories:
            for term, weight in category.keywords.items():
                weights = categories.setdefault(normalizer.fold(term).strip(), {})
                weights[category.code] = weights.get(category.code, 0.0) + weight
        for term, weight in taxonomy.request_cues.items():
            folded = normalizer.fold(term).strip()
            request[folded] = request.get(folded, 0.0) + weight
        for term, weight in taxonomy.non_request_cues.items():
            folded = normalizer.fold(term).strip()
            chat[folded] = chat.get(folded, 0.0) + weight
        self.terms: dict[str, _Meaning] = {
            term: _Meaning(
                categories=tuple(categories.get(term, {}).items()),
                request=request.get(term, 0.0),
                chat=chat.get(term, 0.0),
                polite=term in politeness,
            )
            for term in {*categories, *request, *chat}
            if term
        }
        # Every regular expression gets an id; `trigger` maps a character or character pair that every
        # match contains (mostly: starts with) to the ids worth running, so a message runs only the few
        # that could match.
        trigger: dict[str, set[int]] = {}
        always: set[int] = set()
        count = iter(range(1 << 30))

        def rule(regex: str) -> int:
            rule_id = next(count)
            prefixes = _prefixes(regex)
            if prefixes is None:
                always.add(rule_id)
            else:
                for prefix in prefixes:
                    trigger.setdefault(prefix, set()).add(rule_id)
            return rule_id

        self.patterns = tuple(
            (rule(p.regex), re.compile(p.regex), p.name, p.weights) for p in taxonomy.patterns
        )
        self.urgent = tuple(
            (rule(u.regex), re.compile(u.regex), u.name, u.category, u.confirm) for u in taxonomy.urgent
        )
        self.solved = tuple((rule(regex), re.compile(regex)) for regex in taxonomy.solved_patterns)
        self.notices = tuple((rule(regex), re.compile(regex)) for regex in taxonomy.notices)
        # One Aho-Corasick pass over a message finds every dictionary term and every string that
        # triggers a regular expression; each key carries (term, length, meaning or None, rule ids or None).
        keys: dict[str, tuple[_Meaning | None, frozenset[int] | None]] = {
            term: (meaning, None) for term, meaning in self.terms.items()
        }
        for prefix, ids in trigger.items():
            keys[prefix] = (keys.get(prefix, (None, None))[0], frozenset(ids))
        self.automaton = ahocorasick.Automaton()
        for key, (meaning, rules) in keys.items():
            self.automaton.add_word(key, (key, len(key), meaning, rules))
        # An automaton with no keys cannot be searched (a taxonomy without any keyword or pattern).
        self.scannable = bool(keys)
        if keys:
            self.automaton.make_automaton()
        self.pattern_of_rule = {rule: (name, weights) for rule, _, name, weights in self.patterns}
        self.pattern_regex = {rule: pattern for rule, pattern, _, _ in self.patterns}
        self.always = frozenset(always)
        self.urgent_unless = tuple(normalizer.fold(term) for term in taxonomy.urgent_unless)
        self.urgent_over = tuple(normalizer.fold(term) for term in taxonomy.urgent_over)
        # Both lists as one search, for the urgency head's check of a whole message (one C call).
        not_now = sorted(
            {term for term in (*self.urgent_unless, *self.urgent_over) if term}, key=len, reverse=True
        )
        self.not_now = re.compile("|".join(map(re.escape, not_now))) if not_now else None
        negated = sorted({normalizer.fold(term) for term in taxonomy.urgent_unless_negated} - {""}, key=len, reverse=True)
        self.unless_negated = re.compile("|".join(map(re.escape, negated))) if negated else None
        self.urgent_if = tuple(term for term in (normalizer.fold(term) for term in taxonomy.urgent_if) if term)
        self.urgent_now = tuple(term for term in (normalizer.fold(term) for term in taxonomy.urgent_now) if term)
        frame = sorted({normalizer.fold(term) for term in taxonomy.urgent_frame} - {""}, key=len, reverse=True)
        # For the earlier clauses' check: where the last word that sets a story's frame ends.
        self.frame_search = re.compile("|".join(map(re.escape, frame))) if frame else None
        self.solved_negations = tuple(normalizer.fold(term) for term in taxonomy.solved_negations)
        self.solved_unless = tuple(normalizer.fold(term) for term in taxonomy.solved_unless)
        self.priority = taxonomy.codes
        self.rank = {code: index for index, code in enumerate(self.priority)}
        self.scoring = taxonomy.scoring


@dataclass(slots=True)
class _Evidence:
    """What the scan found in one message."""

    scores: dict[str, float]
    request: float
    chat: float
    keywords: list[str]
    patterns: list[str]
    rules: set[int]


@dataclass(slots=True)
class _Analysis:
    """A verdict and the evidence that led to it."""

    folded: str
    classification: Classification | None = None
    scores: dict[str, float] = field(default_factory=dict)
    request: float = 0.0
    chat: float = 0.0
    patterns: tuple[str, ...] = ()
    learned: dict[str, float] = field(default_factory=dict)
    combined: dict[str, float] = field(default_factory=dict)
    model_pass: Learned | None = None
    urgency: float | None = None
    chat_probability: float | None = None


class KeywordClassifier:
    """Recognises requests in building-group messages and names their category (the Classifier port)."""

    def __init__(
        self,
        taxonomy: Taxonomy | Mapping[str, Any] | str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        tokenizer: jieba.Tokenizer | None = None,
        normalizer: Normalizer | None = None,
        model: TextModel | None = None,
    ) -> None:
        """Build the converter, the tokenizer (its own, initialised now), the keyword matcher and the model.

        ``taxonomy`` is a Taxonomy, or an override (mapping or YAML path) merged over the defaults.
        ``model`` defaults to the shipped n-gram model; ``scoring.model: 0`` in the taxonomy turns it off.
        """
        self._normalizer = normalizer or Normalizer()
        self._tokenizer = tokenizer or build_tokenizer(cache_dir)
        if isinstance(taxonomy, Taxonomy):
            self._taxonomy = taxonomy
        elif taxonomy is None:
            self._taxonomy = default_taxonomy()
        else:
            self._taxonomy = load_taxonomy(taxonomy)
        self._matcher = _Matcher(self._taxonomy, self._normalizer)
        self._model: TextModel | None = None
        if self._taxonomy.scoring.model:
            self._model = model or default_model()
        # Where each code's label sits in the model's output. A category the model never saw (added by a
        # community) has no opinion of the model: it starts from the model's belief that this is a
        # request at all, and its keywords do the rest.
        self._learned_at: dict[str, int] = {}
        self._unknown: list[str] = []
        self._leftover: list[int] = []
        self._none_at = 0
        if self._model is not None:
            labels = self._model.labels
            self._learned_at = {
                category.code: labels.index(category.learned_as)
                for category in self._taxonomy.categories
                if category.learned_as in labels
            }
            self._unknown = [code for code in self._taxonomy.codes if code not in self._learned_at]
            used = {*self._learned_at.values(), labels.index(NONE)}
            self._leftover = [position for position in range(len(labels)) if position not in used]
            self._none_at = labels.index(NONE)
        # Codes on which the urgency head may raise the urgent flag: those whose learnt label has
        # urgent rows in the corpus (safety, care, repair, dispute), not a parking fee or a question.
        self._urgent_capable: frozenset[str] = frozenset()
        if (
            self._model is not None
            and self._model.urgency is not None
            and self._taxonomy.scoring.urgent_model
        ):
            learned_urgent = set(self._model.urgency.categories)
            self._urgent_capable = frozenset(
                code
                for code, position in self._learned_at.items()
                if self._model.labels[position] in learned_urgent
            )

    @property
    def model(self) -> TextModel | None:
        """The n-gram model this classifier combines with its keywords (None: keywords alone)."""
        return self._model

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy this classifier was built from."""
        return self._taxonomy

    @property
    def threshold(self) -> float:
        """Confidence below which the bot asks the author whether the message is a request."""
        return self._taxonomy.threshold

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in priority order (without ``none``)."""
        return self._taxonomy.codes

    def with_taxonomy(self, taxonomy: Taxonomy | Mapping[str, Any] | str | Path) -> KeywordClassifier:
        """A new classifier for another taxonomy, sharing this one's tokenizer and converter.

        A Taxonomy is used as is; a mapping or path is an override merged over the current taxonomy.
        Callers swap the whole classifier; this one keeps working unchanged for readers in flight.
        """
        if not isinstance(taxonomy, Taxonomy):
            taxonomy = self._taxonomy.with_override(taxonomy)
        return KeywordClassifier(
            taxonomy, tokenizer=self._tokenizer, normalizer=self._normalizer, model=self._model
        )

    def with_keywords(
        self, category: str, add: Mapping[str, float] | None = None, remove: tuple[str, ...] | list[str] = ()
    ) -> KeywordClassifier:
        """A new classifier with keywords of one category added, re-weighted or removed.

        Raises TaxonomyError (a ValueError) for an unknown category or a bad weight.
        """
        if self._taxonomy.category(category) is None:
            raise TaxonomyError(f"categories.{category}: no such category")
        changes: dict[str, float | None] = dict(add or {})
        changes.update({term: None for term in remove})
        return self.with_taxonomy({"categories": {category: {"keywords": changes}}})

    def normalize(self, text: str) -> NormalizedText:
        """Fold a message as the classifier sees it (Simplified, half-width, no emoji or links)."""
        return self._normalizer.normalize(text)

    def tokens(self, text: str) -> tuple[str, ...]:
        """The jieba words of a message after folding (at most the first few hundred characters)."""
        folded = self._normalizer.normalize(text).text[:MAX_TOKEN_CHARS]
        return tuple(word for word in self._tokenizer.cut(folded) if word.strip())

    def category_name(self, code: str, locale: str = "zh-Hans") -> str:
        """The display name of a category code in a locale (falls back to zh-Hans, then the code)."""
        if code == NONE:
            names: Mapping[str, str] = self._taxonomy.none_names
        else:
            category = self._taxonomy.category(code)
            if category is None:
                return code
            names = category.names
        return names.get(_locale(locale)) or names.get("zh-Hans") or code

    def label_aliases(self) -> dict[str, str]:
        """Every display name of a label (报修, 報修, repair …, 非诉求) mapped to its code, for labelled files."""
        aliases: dict[str, str] = {}
        for code, names in [(NONE, self._taxonomy.none_names)] + [
            (category.code, category.names) for category in self._taxonomy.categories
        ]:
            for name in names.values():
                aliases.setdefault(name.strip().lower(), code)
        return aliases

    def classify(self, text: str, *, explain: bool = False) -> Classification:
        """Classify one message; never raises. With ``explain`` the jieba tokens are included."""
        try:
            return self._analyse(text, explain).classification
        except Exception:
            logger.exception(
                "classifier failed on a message of %d characters", len(text) if isinstance(text, str) else 0
            )
            safe = text if isinstance(text, str) else ""
            return Classification(text=safe, category=NONE, urgent=False, confidence=0.0, rule="error")

    def explain(self, text: str) -> dict[str, Any]:
        """The verdict with the evidence behind it: folded text, scores, cues, patterns, tokens."""
        analysis = self._analyse(text, True)
        verdict = analysis.classification
        return {
            "text": verdict.text,
            "category": verdict.category,
            "urgent": verdict.urgent,
            "confidence": verdict.confidence,
            "keywords": list(verdict.keywords),
            "rule": verdict.rule,
            "tokens": list(verdict.tokens),
            "folded": analysis.folded,
            "scores": {
                code: round(score, 2)
                for code, score in sorted(analysis.scores.items(), key=lambda kv: -kv[1])
            },
            "request_cues": round(analysis.request, 2),
            "chat_cues": round(analysis.chat, 2),
            "patterns": list(analysis.patterns),
            "model": {
                label: round(p, 3) for label, p in sorted(analysis.learned.items(), key=lambda kv: -kv[1])[:4]
            },
            "combined": {
                code: round(score, 2)
                for code, score in sorted(analysis.combined.items(), key=lambda kv: -kv[1])[:4]
            },
            "urgency": None if analysis.urgency is None else round(analysis.urgency, 3),
            "chat_probability": None if analysis.chat_probability is None else round(analysis.chat_probability, 3),
        }

    def _analyse(self, text: str, explain: bool) -> _Analysis:
        """The classification proper, with its evidence (see classify)."""
        original = text if isinstance(text, str) else ("" if text is None else str(text))
        folded = self._normalizer.normalize(original)
        scan = folded.text if len(folded.text) <= MAX_SCAN_CHARS else folded.text[:MAX_SCAN_CHARS]
        tokens: tuple[str, ...] = ()
        if explain:
            tokens = tuple(word for word in self._tokenizer.cut(scan[:MAX_TOKEN_CHARS]) if word.strip())
        analysis = _Analysis(folded=folded.text)

        def verdict(
            category: str,
            confidence: float,
            rule: str,
            keywords: list[str] | tuple[str, ...] = (),
            urgent: bool = False,
        ) -> _Analysis:
            analysis.classification = Classification(
                text=original,
                category=category,
                urgent=urgent,
                confidence=round(min(max(confidence, 0.0), 1.0), 3),
                keywords=tuple(keywords),
                rule=rule,
                tokens=tokens,
            )
            return analysis

        if not folded.has_content:
            return verdict(NONE, 0.99, "emoji_only" if folded.emoji_only else "empty")
        matcher = self._matcher
        scoring = matcher.scoring
        evidence = self._scan(scan)
        present = evidence.rules
        urgent_name, urgent_category, urgent_fragment = self._urgent(analysis, scan, present)
        if urgent_name:
            evidence.keywords.append(urgent_fragment)
            if urgent_category in matcher.rank:
                evidence.scores[urgent_category] = (
                    evidence.scores.get(urgent_category, 0.0) + scoring.urgent_hint
                )
        request = min(evidence.request, scoring.max_cues)
        chat = min(evidence.chat, scoring.max_chat_cues)
        analysis.scores, analysis.request, analysis.chat = evidence.scores, request, chat
        analysis.patterns = tuple(evidence.patterns)
        chosen, decided_by_priority, runner_up = self._choose(evidence.scores)
        # How strongly the message names a problem at all, whichever category priority then picks.
        strength = max(evidence.scores.values(), default=0.0) if chosen else 0.0
        keywords = _unique(evidence.keywords)

        evidence_score = strength + scoring.cue_factor * request - scoring.chat_factor * chat
        if urgent_name:
            category = chosen or ("other" if "other" in matcher.rank else matcher.priority[-1])
            if self._model is not None:
                combined = self._combine(analysis, scan, evidence.scores, evidence_score, explain)
                combined.pop(NONE)
                category = max(combined, key=lambda code: (combined[code], -matcher.rank[code]))
            return verdict(category, 0.95, f"urgent:{urgent_name}", keywords, urgent=True)
        solved = self._solved(scan, present)
        if solved:
            return verdict(NONE, 0.9, "solved", _unique([solved, *keywords]))
        notice = next(
            (m.group() for m in (p.search(scan) for rule, p in matcher.notices if rule in present) if m), ""
        )
        if notice:
            return verdict(NONE, 0.9, "notice", _unique([notice, *keywords]))
        if len(scan) <= 3 and _content_length(scan) <= 1:
            return verdict(NONE, 0.95, "too_short", keywords)

        # The keywords' verdict; when it is not sure, the n-gram model decides together with it.
        category, confidence, rule = NONE, 0.0, ""
        if chosen and strength > 0 and evidence_score >= scoring.request_min:
            chosen_strength = evidence.scores[chosen]
            confidence = self._confidence(evidence_score) * (
                1.0 - 0.35 * min(1.0, runner_up / chosen_strength)
            )
            category, rule = chosen, "priority" if decided_by_priority else "keywords"
        else:
            other_score = request - scoring.chat_factor * chat
            if (
                request >= scoring.other_min_cues
                and other_score > 0
                and strength < scoring.fit_min
                and "other" in matcher.rank
            ):
                category, confidence, rule = "other", self._confidence(other_score), "request_cues"
            else:
                confidence = 1.0 - self._confidence(max(evidence_score, other_score))
                rule = "chat_cues" if chat > 0 else ("weak_evidence" if keywords else "no_evidence")
        if self._model is not None and confidence < scoring.model_below:
            combined = self._combine(analysis, scan, evidence.scores, evidence_score, explain)
            learned = max(combined, key=lambda code: (combined[code], -matcher.rank.get(code, -1)))
            if learned != category:
                category, rule = learned, "model"
            confidence = _softmax_top(combined)
        if rule == "request_cues":
            # A request that names no topic (我要投诉, 恳请有关部门解决): which category it is, only the
            # author knows, so the bot asks them rather than guess.
            confidence = min(confidence, max(0.0, self._taxonomy.threshold - 0.01))
        if category in self._urgent_capable and self._learned_urgent(analysis, scan):
            return verdict(category, confidence, "urgent:model", keywords, urgent=True)
        if category != NONE and scoring.none_veto and self._model is not None:
            chat_probability = self._chat_probability(analysis, scan)
            if chat_probability >= scoring.none_veto:
                return verdict(NONE, chat_probability, "model_none", keywords)
        return verdict(category, confidence, rule, keywords)

    def _chat_probability(self, analysis: _Analysis, text: str) -> float:
        """The model's own probability that a message is `none`, the keywords left aside (the `none_veto` rule).

        Keyword verdicts that are sure are not weighed against the model (step 5), so chat that names a
        problem (电梯坏的那回我爬了十六楼) could only be caught here.
        """
        # A softmax over a dozen labels in plain floats: cheaper than numpy calls on so small an array.
        scores = self._model_pass(analysis, text).logits.tolist()
        top = max(scores)
        probability = math.exp(scores[self._none_at] - top) / sum(math.exp(score - top) for score in scores)
        analysis.chat_probability = probability
        return probability

    def _learned_urgent(self, analysis: _Analysis, text: str) -> bool:
        """Whether the urgency head calls a request an emergency now (no pattern did).

        Words that say it is over (``urgent_over``) anywhere in the message keep the flag down, as they do
        for the patterns. Words that say it is not happening now (a drill, the past, news: ``urgent_unless``)
        anywhere outside a denial raise the bar to ``scoring.urgent_model_not_now`` (0: keep the flag down).
        A message that opens with a hypothetical (``urgent_if`` in its first clause: 万一楼道着火了 …) asks
        about some day, and one told in a story's frame (``urgent_frame`` with no ``urgent_now`` after it:
        上次有个老人在电梯里晕倒了) happened some other day: the head flags neither.
        """
        matcher = self._matcher
        # Taking denials out can only remove words, so a message with none of them anywhere is skipped cheaply.
        if matcher.urgent_if and any(word in text for word in matcher.urgent_if):
            opening = _CLAUSE.search(_unnegated(matcher, text))
            if opening is not None and any(word in opening.group() for word in matcher.urgent_if):
                return False
        # A story's frame (上次, 去年 …) with nothing bringing it back to now: the head does not flag it either.
        if _framed(matcher, text):
            return False
        not_now = matcher.not_now
        threshold = matcher.scoring.urgent_model
        # Denials are looked for only when a not-now word occurs: taking them out can only remove matches.
        if not_now is not None and not_now.search(text) and not_now.search(_unnegated(matcher, text)):
            # Over (urgent_over) stops the head; not now (urgent_unless) asks it to be surer, if configured.
            threshold = matcher.scoring.urgent_model_not_now
            if not threshold or any(word in text for word in matcher.urgent_over):
                return False
        urgency = self._urgency(analysis, text)
        return urgency is not None and urgency >= threshold

    def _urgency(self, analysis: _Analysis, text: str) -> float | None:
        """The urgency head's probability (None without a head), recorded for ``explain``."""
        analysis.urgency = self._model_pass(analysis, text).urgency
        return analysis.urgency

    def _model_pass(self, analysis: _Analysis, text: str) -> Learned:
        """The model's pass over a message, computed once however many decisions use it."""
        if analysis.model_pass is None:
            model = self._model
            assert model is not None
            analysis.model_pass = model.analyse(text)
        return analysis.model_pass

    def _combine(
        self, analysis: _Analysis, text: str, scores: Mapping[str, float], evidence: float, explain: bool
    ) -> dict[str, float]:
        """Scores of every code and `none`: the model's log-probability plus the keyword evidence."""
        model = self._model
        assert model is not None
        normalised = bool(self._leftover or self._unknown)
        # Without taxonomy changes, log-probabilities up to a constant shared by every label are enough
        # (comparison and softmax ignore the constant); with them, proper log-probabilities.
        logits = self._model_pass(analysis, text).logits
        learned = model.log_probabilities(text, logits) if normalised else logits
        logs = learned.tolist()
        if explain:
            analysis.learned = dict(
                zip(model.labels, np.exp(model.log_probabilities(text, logits)).tolist(), strict=True)
            )
        scoring = self._matcher.scoring
        weight = scoring.keyword_weight
        combined = {
            code: logs[position] + weight * scores.get(code, 0.0)
            for code, position in self._learned_at.items()
        }
        if normalised:
            floor = 1e-9
            # What the model gives categories this taxonomy removed is still a request: it goes to `other`.
            extra = float(np.exp(learned[self._leftover]).sum()) if self._leftover else 0.0
            for code, position in self._learned_at.items():
                if extra and model.labels[position] == "other":
                    combined[code] = math.log(math.exp(logs[position]) + extra) + weight * scores.get(
                        code, 0.0
                    )
            request = math.log(max(1.0 - math.exp(logs[self._none_at]), floor))
            for code in self._unknown:
                combined[code] = request + weight * scores.get(code, 0.0)
        combined[NONE] = logs[self._none_at] + scoring.none_bias - scoring.evidence_weight * evidence
        analysis.combined = combined
        return dict(combined)

    def _scan(self, text: str) -> _Evidence:
        """Find the dictionary's terms (the longest where they overlap) and the patterns; add up weights.

        The same pass collects the regular expressions worth running (those with a triggering
        character or character pair in the message), so most messages run only a few.
        """
        matcher = self._matcher
        present = set(matcher.always)
        # The longest term starting at each position (a shorter one starting there lies inside it).
        longest: dict[int, tuple[int, str, _Meaning]] = {}
        if matcher.scannable:
            for end, (term, length, meaning, rules) in matcher.automaton.iter(text):
                if rules is not None:
                    present |= rules
                if meaning is not None:
                    start = end - length + 1
                    if start not in longest or longest[start][0] < length:
                        longest[start] = (length, term, meaning)
        scores: dict[str, float] = {}
        request = chat = politeness = 0.0
        keywords: list[str] = []
        counted: set[str] = set()
        boundary_checks: dict[str, int] = {}
        reach = 0
        for start in sorted(longest):
            length, term, meaning = longest[start]
            end = start + length
            # A term wholly inside one already found does not count.
            if end <= reach:
                continue
            reach = end
            if term in counted:
                continue
            if length == 1:
                checks = boundary_checks.get(term, 0)
                if checks >= _MAX_BOUNDARY_CHECKS:
                    continue
                boundary_checks[term] = checks + 1
                if not self._is_word(text, start, end):
                    continue
            counted.add(term)
            keywords.append(term)
            for code, weight in meaning.categories:
                scores[code] = scores.get(code, 0.0) + weight
            request += meaning.request
            chat += meaning.chat
            if meaning.polite:
                politeness += meaning.chat
        patterns: list[str] = []
        pattern_of_rule, pattern_regex = matcher.pattern_of_rule, matcher.pattern_regex
        for rule in sorted(present):
            if rule not in pattern_of_rule or not pattern_regex[rule].search(text):
                continue
            name, weights = pattern_of_rule[rule]
            patterns.append(name)
            for code, weight in weights.items():
                if code == NONE:
                    chat += weight
                elif code == _REQUEST_EVIDENCE:
                    request += weight
                else:
                    scores[code] = scores.get(code, 0.0) + weight
        if request > 0:
            # 麻烦看一下，谢谢: thanks in advance is politeness, not chat.
            chat -= politeness
        return _Evidence(
            scores=scores, request=request, chat=chat, keywords=keywords, patterns=patterns, rules=present
        )

    def _is_word(self, text: str, start: int, end: int) -> bool:
        """True when jieba segments text[start:end] as a word of its own (not inside a longer word)."""
        low = max(0, start - 4)
        position = low
        boundaries = {low}
        for word in self._tokenizer.cut(text[low : end + 4], HMM=False):
            position += len(word)
            boundaries.add(position)
            if position >= end:
                break
        return start in boundaries and end in boundaries

    def _choose(self, scores: dict[str, float]) -> tuple[str | None, bool, float]:
        """The category that wins: the first in priority order among those that fit, else the strongest.

        Returns the code, whether priority overruled a stronger category, and the best other score.
        """
        matcher = self._matcher
        positive = {code: score for code, score in scores.items() if score > 0 and code in matcher.rank}
        if not positive:
            return None, False, 0.0
        strongest = max(positive, key=lambda code: (positive[code], -matcher.rank[code]))
        # `other` is the residual: it competes on priority only when it is also the strongest.
        fitting = [
            code
            for code in positive
            if positive[code] >= matcher.scoring.fit_min and (code != "other" or code == strongest)
        ]
        chosen = min(fitting, key=matcher.rank.__getitem__) if fitting else strongest
        # Priority settles a near tie; a category many times stronger than the priority pick wins.
        dominance = matcher.scoring.dominance
        if dominance > 0 and positive[strongest] >= dominance * positive[chosen]:
            chosen = strongest
        runner_up = max((score for code, score in positive.items() if code != chosen), default=0.0)
        return chosen, chosen != strongest, runner_up

    def _urgent(self, analysis: _Analysis, text: str, present: set[int]) -> tuple[str, str | None, str]:
        """The first urgent pattern that matches in a clause without a drill/past/hypothetical word.

        Nothing is urgent in a message saying the emergency is already dealt with (已关闸, 已经扑灭). A
        pattern with a ``confirm`` bar (救命, also an exclamation) counts only when the urgency head, where
        there is a model, gives at least that; every pattern needs at least ``scoring.urgent_confirm``, and in
        a long message (``scoring.long_message``) at least ``scoring.long_message_confirm``.
        """
        matcher = self._matcher
        scoring = matcher.scoring
        for rule, pattern, name, category, confirm in matcher.urgent:
            if rule not in present:
                continue
            for match in pattern.finditer(text):
                start, clause = _clause_span(text, match.start(), match.end())
                clause = _unnegated(matcher, clause)
                if not any(word in clause for word in matcher.urgent_unless) and not _told_before(
                    matcher, text, start, match.start()
                ):
                    # checked only here, not on every message: most messages match no urgent pattern
                    if any(word in text for word in matcher.urgent_over):
                        return "", None, ""
                    confirm = max(confirm, scoring.urgent_confirm)
                    if scoring.long_message and _content_length(text) >= scoring.long_message:
                        confirm = max(confirm, scoring.long_message_confirm)
                    if confirm and self._model is not None:
                        urgency = self._urgency(analysis, text)
                        if urgency is not None and urgency < confirm:
                            break  # an exclamation or a story, not a call for help: the next pattern may still match
                    return name, category, match.group()
        return "", None, ""

    def _solved(self, text: str, present: set[int]) -> str:
        """The phrase reporting the problem as solved or thanking for a fix, or '' if there is none."""
        matcher = self._matcher
        for rule, pattern in matcher.solved:
            if rule not in present:
                continue
            for match in pattern.finditer(text):
                before = text[max(0, match.start() - 3) : match.start()]
                after = text[match.end() : match.end() + 2]
                if any(word in before for word in matcher.solved_negations):
                    continue
                if any(mark in after for mark in ("吗", "没", "么", "?", "不")):
                    continue
                if any(word in text for word in matcher.solved_unless):
                    return ""
                return match.group()
        return ""

    def _confidence(self, evidence: float) -> float:
        """Probability-like confidence that a message with this much evidence is a request."""
        scoring = self._matcher.scoring
        return 1.0 / (1.0 + math.exp(-scoring.slope * (evidence - scoring.midpoint)))


def _softmax_top(scores: Mapping[str, float]) -> float:
    """The softmax probability of the best score among all."""
    top = max(scores.values())
    return 1.0 / sum(math.exp(score - top) for score in scores.values())


def _prefixes(regex: str) -> set[str] | None:
    """Characters or character pairs one of which occurs in any text the regex matches; None if unknown.

    Usually what every match starts with; when the start cannot be told (``^(?!…)[^。]*(墙皮|墙面)…``),
    what a later part of every match starts with, since a match contains a match of each of its parts.
    """
    try:
        parsed = sre_parse.parse(regex)
    except Exception:
        return None
    items = [(op, value) for op, value in parsed if str(op) not in _ZERO_WIDTH]
    for start in range(len(items)):
        prefixes = _sequence_prefixes(items[start:])
        if prefixes:
            return prefixes
    return None


# Parts of a regex that match no characters: they say nothing about what a match contains.
_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})


def _sequence_prefixes(items: list[Any]) -> set[str] | None:
    """Prefixes (one or two characters) of a parsed regex sequence; None when they cannot be told."""
    items = [(op, value) for op, value in items if str(op) not in _ZERO_WIDTH]
    if not items:
        return None
    (op, value), rest = items[0], items[1:]
    name = str(op)
    if name == "LITERAL":
        following = _sequence_prefixes(rest) if rest else None
        if not following:
            return {chr(value)}
        return {chr(value) + prefix[0] for prefix in following}
    if name == "IN":
        chars = set()
        for item_op, item_value in value:
            if str(item_op) != "LITERAL":
                return None
            chars.add(chr(item_value))
        return chars
    if name == "SUBPATTERN":
        return _sequence_prefixes(list(value[-1]) + rest)
    if name == "BRANCH":
        prefixes: set[str] = set()
        for branch in value[1]:
            branch_prefixes = _sequence_prefixes(list(branch) + rest)
            if branch_prefixes is None:
                return None
            prefixes |= branch_prefixes
        return prefixes
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, _, body = value
        body_prefixes = _sequence_prefixes(list(body))
        if body_prefixes is None:
            return None
        # What follows one repetition may be another: only the first character is certain.
        firsts = {prefix[0] for prefix in body_prefixes}
        if low > 0:
            return firsts
        following = _sequence_prefixes(rest) if rest else None
        return None if following is None else firsts | following
    return None


def _unnegated(matcher: _Matcher, text: str) -> str:
    """The text without phrases that deny a not-now word (这不是演习 is no drill), for the not-now checks."""
    negated = matcher.unless_negated
    return negated.sub(" ", text) if negated is not None else text


def _clause_span(text: str, start: int, end: int) -> tuple[int, str]:
    """Where the clause (between punctuation or spaces) that contains text[start:end] starts, and the clause."""
    for clause in _CLAUSE.finditer(text):
        if clause.start() <= start < clause.end():
            return clause.start(), text[clause.start() : max(end, clause.end())]
    return start, text[start:end]


def _told_before(matcher: _Matcher, text: str, clause_start: int, match_start: int) -> bool:
    """Whether an earlier clause sets the message outside now (去年冬天，水管爆了) and nothing brings it back.

    A word of ``urgent_frame`` (the past, a drill, the news; denials left out) before the pattern's clause
    counts unless one of ``urgent_now`` (现在, 刚刚, 又 …) comes after it.
    """
    if clause_start == 0:
        return False
    return _framed(matcher, text[:clause_start], text[clause_start:match_start])


def _framed(matcher: _Matcher, text: str, after: str = "") -> bool:
    """Whether ``text`` has a word of ``urgent_frame`` (denials left out) with no ``urgent_now`` after it.

    ``after`` is text that follows and can only bring the message back to now.
    """
    # Denials are taken out only when a frame word occurs at all: taking them out can only remove words.
    if matcher.frame_search is None or not matcher.frame_search.search(text):
        return False
    before = _unnegated(matcher, text)
    last = collections.deque(matcher.frame_search.finditer(before), maxlen=1)
    if not last:
        return False
    since = before[last[0].end() :] + after
    return not any(word in since for word in matcher.urgent_now)


def _content_length(text: str) -> int:
    """Number of characters that are not punctuation or space."""
    return sum(1 for char in text if char.isalnum())


def _unique(items: list[str]) -> list[str]:
    """Items without repeats, in first-seen order."""
    return list(dict.fromkeys(item for item in items if item))


def _locale(locale: str) -> str:
    """Map locale spellings (zh_CN, zh-TW, en-US …) to the taxonomy's locales."""
    lowered = (locale or "").replace("_", "-").lower()
    if lowered.startswith("zh"):
        if any(tag in lowered for tag in ("hant", "tw", "hk", "mo")):
            return "zh-Hant"
        return "zh-Hans"
    if lowered.startswith("en"):
        return "en"
    return locale
