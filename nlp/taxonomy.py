"""The request taxonomy as data: shipped defaults, a community's overrides merged over them, validation.

An override (a mapping, or a YAML file with one) uses the shape of ``nlp/data/taxonomy.yaml``:

- ``categories.<code>: null`` removes a category; ``categories.<code>: {...}`` merges into it, or
  adds it when new (before ``other`` unless ``priority`` is given). Inside a category, ``names``
  and ``keywords`` merge per entry, and ``keyword: null`` removes one; ``replace: true`` replaces
  the whole category instead of merging.
- ``rename: {old_code: new_code}`` renames category codes (and their references).
- ``request_cues``, ``non_request_cues``, ``patterns`` and ``urgent`` merge per entry, ``null``
  removes; lists (``priority``, ``politeness``, ``notices``, ``urgent_unless``, ``urgent_over``,
  ``urgent_unless_negated``, ``urgent_if``, ``urgent_frame``, ``urgent_now``,
  ``solved.*``) and scalars replace.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

LOCALES = ("zh-Hans", "zh-Hant", "en")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TOP_KEYS = {
    "version",
    "threshold",
    "priority",
    "none_names",
    "categories",
    "rename",
    "request_cues",
    "non_request_cues",
    "politeness",
    "patterns",
    "solved",
    "notices",
    "urgent",
    "urgent_unless",
    "urgent_over",
    "urgent_unless_negated",
    "urgent_if",
    "urgent_frame",
    "urgent_now",
    "scoring",
}
_CATEGORY_KEYS = {"names", "keywords", "replace", "learned_as"}
_SCORING_DEFAULTS = {
    "request_min": 0.8,
    "fit_min": 1.0,
    "cue_factor": 0.5,
    "chat_factor": 0.7,
    "max_cues": 2.0,
    "max_chat_cues": 3.0,
    "other_min_cues": 1.0,
    "urgent_hint": 1.5,
    "slope": 2.2,
    "midpoint": 1.15,
    "dominance": 0.0,
    "keyword_weight": 0.5,
    "evidence_weight": 0.2,
    "model": 1.0,
    "model_below": 0.95,
    "none_bias": 0.0,
    "urgent_model": 0.0,
    "urgent_model_not_now": 0.0,
    "none_veto": 0.0,
    "long_message": 0.0,
    "long_message_confirm": 0.0,
    "urgent_confirm": 0.0,
}
_MAX_WEIGHT = 10.0


class TaxonomyError(ValueError):
    """A taxonomy file or override is malformed; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class Category:
    """One request category: its code, display names and weighted keywords."""

    code: str
    names: Mapping[str, str]
    keywords: Mapping[str, float]
    # The label of the trained model this category draws on (its default code, kept across a rename);
    # a category the model never saw shares the model's `other`.
    learned_as: str = ""


@dataclass(frozen=True, slots=True)
class WeightedPattern:
    """A regular expression that adds (or takes away) evidence for some categories."""

    name: str
    regex: str
    weights: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class UrgentPattern:
    """A regular expression for an emergency happening now, with the category it suggests."""

    name: str
    regex: str
    category: str | None
    # The urgency head must give at least this for the pattern to count (0: the pattern alone does).
    # For words that are also exclamations in chat: 救命 (OMG), 快来人 (round 15).
    confirm: float = 0.0


@dataclass(frozen=True, slots=True)
class Scoring:
    """Constants of the evidence and confidence computation."""

    request_min: float
    fit_min: float
    cue_factor: float
    chat_factor: float
    max_cues: float
    max_chat_cues: float
    other_min_cues: float
    urgent_hint: float
    slope: float
    midpoint: float
    dominance: float = 0.0
    # How the n-gram model and the keywords are combined (nlp/model.py): a category's score is the
    # model's log-probability + keyword_weight × its keyword score; `none` loses evidence_weight ×
    # the keyword evidence. model: 0 turns the model off (keywords and rules alone).
    keyword_weight: float = 0.5
    evidence_weight: float = 0.2
    model: float = 1.0
    # The model is consulted only when the keywords' own confidence is below this (cost ≈ 60 µs).
    model_below: float = 0.95
    # Added to the model's log-probability of `none`: the corpus is mostly requests (petition titles),
    # a building group mostly chat, so the model's prior for `none` is shifted towards the group's.
    none_bias: float = 0.0
    # A request in a category with urgent rows in the corpus is urgent, with no urgent pattern matched,
    # when the model's urgency head gives at least this probability (0: patterns alone).
    urgent_model: float = 0.0
    # The same, in a message with a not-now word (urgent_unless) somewhere outside the denials: the head
    # must be at least this sure (0: such a message is never urgent by the head). urgent_over still stops it.
    urgent_model_not_now: float = 0.0
    # A request that is not urgent becomes `none` when the model alone gives `none` at least this
    # probability, however sure the keywords were: chat that names a problem (0: off).
    none_veto: float = 0.0
    # In a message of at least long_message characters (letters and digits), an urgent pattern counts
    # only when the urgency head gives at least long_message_confirm: long posts that tell a story, review
    # the year or remember the old days name emergencies without having one (round 16; 0: off).
    long_message: float = 0.0
    long_message_confirm: float = 0.0
    # Every urgent pattern counts only when the urgency head gives at least this (round 18; 0: off): a
    # floor far under the head's own bar, so only a message the head is sure is no emergency stays quiet
    # (電梯困人這個月第四回了 到底幾時換新的: how often, not someone inside now).
    urgent_confirm: float = 0.0


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy; categories are kept in priority order."""

    categories: tuple[Category, ...]
    none_names: Mapping[str, str]
    threshold: float
    request_cues: Mapping[str, float]
    non_request_cues: Mapping[str, float]
    politeness: tuple[str, ...]
    patterns: tuple[WeightedPattern, ...]
    solved_patterns: tuple[str, ...]
    solved_negations: tuple[str, ...]
    solved_unless: tuple[str, ...]
    notices: tuple[str, ...]
    urgent: tuple[UrgentPattern, ...]
    urgent_unless: tuple[str, ...]
    # Anywhere in the message: the emergency is already being dealt with or over (已关闸, 已经扑灭).
    urgent_over: tuple[str, ...]
    # Phrases that say an urgent_unless word does not apply (这不是演习): they do not count as that word.
    urgent_unless_negated: tuple[str, ...]
    scoring: Scoring
    # In the first clause, these make the whole message a question about some day (万一楼道着火了 往哪跑):
    # the urgency head does not flag it; the patterns already look at each clause (round 16).
    urgent_if: tuple[str, ...] = ()
    # Words that set a whole story outside now (去年, 那次, 演练, 新闻): in a clause before an urgent
    # pattern's they keep it down too (去年冬天水管爆了 淹了三户), unless a word of urgent_now (现在,
    # 刚刚, 又) comes between them and brings the message back to now (round 17).
    urgent_frame: tuple[str, ...] = ()
    urgent_now: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in priority order."""
        return tuple(category.code for category in self.categories)

    def category(self, code: str) -> Category | None:
        """The category with this code, or None."""
        for category in self.categories:
            if category.code == code:
                return category
        return None

    def with_override(self, override: Mapping[str, Any] | str | Path) -> Taxonomy:
        """A new taxonomy with an override merged over this one."""
        return build_taxonomy(merge_override(self.source, _read_override(override)))


def default_taxonomy() -> Taxonomy:
    """The taxonomy that ships with the project (nlp/data/taxonomy.yaml)."""
    return build_taxonomy(copy.deepcopy(_default_source()))


def load_taxonomy(override: Mapping[str, Any] | str | Path | None = None) -> Taxonomy:
    """The default taxonomy with a community's override (mapping or YAML path) merged over it."""
    if override is None:
        return default_taxonomy()
    return build_taxonomy(merge_override(_default_source(), _read_override(override)))


@cache
def _default_source() -> dict[str, Any]:
    """Parse the shipped YAML once per process (read-only: callers copy before changing)."""
    text = resources.files("nlp").joinpath("data/taxonomy.yaml").read_text(encoding="utf-8")
    return _parse_yaml(text, "nlp/data/taxonomy.yaml")


def _parse_yaml(text: str, origin: str) -> dict[str, Any]:
    """Parse YAML text into a mapping, or raise TaxonomyError naming the file."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise TaxonomyError(f"{origin}: not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TaxonomyError(f"{origin}: the top level must be a mapping, got {type(data).__name__}")
    return data


def _read_override(override: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Accept an override as a mapping or as the path of a YAML file."""
    if isinstance(override, Mapping):
        return copy.deepcopy(dict(override))
    path = Path(override)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TaxonomyError(f"{path}: cannot read the taxonomy override: {error}") from error
    return _parse_yaml(text, str(path))


def merge_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a raw override mapping over a raw taxonomy mapping (neither is changed)."""
    merged = copy.deepcopy(dict(base))
    override = copy.deepcopy(dict(override))
    unknown = sorted(set(override) - _TOP_KEYS)
    if unknown:
        raise TaxonomyError(
            f"unknown key {unknown[0]!r} in taxonomy override (known: {', '.join(sorted(_TOP_KEYS))})"
        )
    renames = override.pop("rename", None) or {}
    if not isinstance(renames, Mapping):
        raise TaxonomyError("rename: must map old category codes to new ones")
    for old, new in renames.items():
        _rename_category(merged, str(old), str(new))
    categories = merged.setdefault("categories", {})
    added: list[str] = []
    for code, spec in (override.pop("categories", None) or {}).items():
        code = str(code)
        if spec is None:
            if code not in categories:
                raise TaxonomyError(f"categories.{code}: cannot remove an unknown category")
            del categories[code]
            _forget_category(merged, code)
            continue
        if not isinstance(spec, Mapping):
            raise TaxonomyError(f"categories.{code}: must be a mapping or null, got {type(spec).__name__}")
        if code not in categories:
            added.append(code)
        if spec.get("replace") or code not in categories:
            categories[code] = {key: value for key, value in spec.items() if key != "replace"}
            categories[code]["keywords"] = {
                k: v for k, v in (spec.get("keywords") or {}).items() if v is not None
            }
            continue
        target = categories[code]
        for key, value in spec.items():
            if key in ("names", "keywords"):
                if not isinstance(value, Mapping):
                    raise TaxonomyError(f"categories.{code}.{key}: must be a mapping")
                _merge_entries(target.setdefault(key, {}), value)
            elif key not in _CATEGORY_KEYS:
                raise TaxonomyError(f"categories.{code}.{key}: unknown key (known: names, keywords, replace)")
    priority = [code for code in merged.get("priority", []) if code in categories]
    for code in added:
        if code not in priority:
            position = priority.index("other") if "other" in priority else len(priority)
            priority.insert(position, code)
    merged["priority"] = priority
    for key in ("request_cues", "non_request_cues", "patterns", "urgent", "none_names"):
        if key in override:
            value = override.pop(key)
            if not isinstance(value, Mapping):
                raise TaxonomyError(f"{key}: must be a mapping")
            _merge_entries(merged.setdefault(key, {}), value)
    if "solved" in override:
        value = override.pop("solved")
        if not isinstance(value, Mapping):
            raise TaxonomyError("solved: must be a mapping")
        merged.setdefault("solved", {}).update(value)
    if "scoring" in override:
        value = override.pop("scoring")
        if not isinstance(value, Mapping):
            raise TaxonomyError("scoring: must be a mapping")
        merged.setdefault("scoring", {}).update(value)
    merged.update(override)
    return merged


def _merge_entries(target: dict[Any, Any], changes: Mapping[Any, Any]) -> None:
    """Merge entries into a mapping; a None value removes the entry."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


def _rename_category(source: dict[str, Any], old: str, new: str) -> None:
    """Rename a category code everywhere it is referred to."""
    categories = source.get("categories", {})
    if old not in categories:
        raise TaxonomyError(f"rename.{old}: no such category")
    if new in categories:
        raise TaxonomyError(f"rename.{old}: the code {new!r} is already taken")
    categories[new] = categories.pop(old)
    if isinstance(categories[new], dict):
        categories[new].setdefault("learned_as", old)
    source["priority"] = [new if code == old else code for code in source.get("priority", [])]
    for spec in (source.get("patterns") or {}).values():
        weights = spec.get("weights") if isinstance(spec, Mapping) else None
        if isinstance(weights, dict) and old in weights:
            weights[new] = weights.pop(old)
    for spec in (source.get("urgent") or {}).values():
        if isinstance(spec, dict) and spec.get("category") == old:
            spec["category"] = new


def _forget_category(source: dict[str, Any], code: str) -> None:
    """Drop references to a removed category from patterns and urgent rules."""
    source["priority"] = [c for c in source.get("priority", []) if c != code]
    for spec in (source.get("patterns") or {}).values():
        weights = spec.get("weights") if isinstance(spec, Mapping) else None
        if isinstance(weights, dict):
            weights.pop(code, None)
    for spec in (source.get("urgent") or {}).values():
        if isinstance(spec, dict) and spec.get("category") == code:
            spec["category"] = None


def build_taxonomy(source: Mapping[str, Any]) -> Taxonomy:
    """Validate a raw taxonomy mapping and build the typed Taxonomy, or raise TaxonomyError."""
    unknown = sorted(set(source) - _TOP_KEYS)
    if unknown:
        raise TaxonomyError(f"unknown key {unknown[0]!r} in taxonomy (known: {', '.join(sorted(_TOP_KEYS))})")
    raw_categories = source.get("categories")
    if not isinstance(raw_categories, Mapping) or not raw_categories:
        raise TaxonomyError("categories: at least one category is needed")
    priority = source.get("priority") or list(raw_categories)
    if not isinstance(priority, list):
        raise TaxonomyError("priority: must be a list of category codes")
    priority = [str(code) for code in priority]
    missing = [str(code) for code in raw_categories if str(code) not in priority]
    extra = [code for code in priority if code not in {str(c) for c in raw_categories}]
    if extra:
        raise TaxonomyError(f"priority: {extra[0]!r} is not a category")
    if len(set(priority)) != len(priority):
        raise TaxonomyError("priority: a category code is listed twice")
    priority += missing
    categories = tuple(_build_category(code, raw_categories[code]) for code in priority)
    codes = {category.code for category in categories}
    threshold = _number(source.get("threshold", 0.5), "threshold", 0.0, 1.0)
    patterns = []
    for name, spec in (_mapping(source.get("patterns"), "patterns")).items():
        where = f"patterns.{name}"
        spec = _mapping(spec, where)
        _known(spec, {"regex", "weights"}, where)
        regex = _regex(spec.get("regex"), f"{where}.regex")
        weights = {}
        for code, weight in _mapping(spec.get("weights"), f"{where}.weights").items():
            if str(code) not in codes and str(code) not in ("none", "request"):
                raise TaxonomyError(
                    f"{where}.weights.{code}: no such category (or none / request, for chat / request evidence)"
                )
            weights[str(code)] = _number(weight, f"{where}.weights.{code}", -_MAX_WEIGHT, _MAX_WEIGHT)
        patterns.append(WeightedPattern(str(name), regex, weights))
    urgent = []
    for name, spec in (_mapping(source.get("urgent"), "urgent")).items():
        where = f"urgent.{name}"
        spec = _mapping(spec, where)
        _known(spec, {"regex", "category", "confirm"}, where)
        category = spec.get("category")
        if category is not None and str(category) not in codes:
            raise TaxonomyError(f"{where}.category: no such category {category!r}")
        urgent.append(
            UrgentPattern(
                str(name),
                _regex(spec.get("regex"), f"{where}.regex"),
                category and str(category),
                _number(spec.get("confirm", 0.0), f"{where}.confirm", 0.0, 1.0),
            )
        )
    solved = _mapping(source.get("solved"), "solved")
    _known(solved, {"patterns", "negations", "unless"}, "solved")
    scoring_source = {**_SCORING_DEFAULTS, **_mapping(source.get("scoring"), "scoring")}
    _known(scoring_source, set(_SCORING_DEFAULTS), "scoring")
    scoring = Scoring(
        **{key: _number(value, f"scoring.{key}", -100.0, 100.0) for key, value in scoring_source.items()}
    )
    return Taxonomy(
        categories=categories,
        none_names=_names(source.get("none_names") or {"zh-Hans": "非诉求"}, "none_names"),
        threshold=threshold,
        request_cues=_weights(source.get("request_cues"), "request_cues"),
        non_request_cues=_weights(source.get("non_request_cues"), "non_request_cues"),
        politeness=_strings(source.get("politeness"), "politeness"),
        patterns=tuple(patterns),
        solved_patterns=tuple(
            _regex(regex, f"solved.patterns[{i}]")
            for i, regex in enumerate(_strings(solved.get("patterns"), "solved.patterns"))
        ),
        solved_negations=_strings(solved.get("negations"), "solved.negations"),
        solved_unless=_strings(solved.get("unless"), "solved.unless"),
        notices=tuple(
            _regex(regex, f"notices[{i}]")
            for i, regex in enumerate(_strings(source.get("notices"), "notices"))
        ),
        urgent=tuple(urgent),
        urgent_unless=_strings(source.get("urgent_unless"), "urgent_unless"),
        urgent_over=_strings(source.get("urgent_over"), "urgent_over"),
        urgent_unless_negated=_strings(source.get("urgent_unless_negated"), "urgent_unless_negated"),
        urgent_if=_strings(source.get("urgent_if"), "urgent_if"),
        urgent_frame=_strings(source.get("urgent_frame"), "urgent_frame"),
        urgent_now=_strings(source.get("urgent_now"), "urgent_now"),
        scoring=scoring,
        source=copy.deepcopy(dict(source)),
    )


def _build_category(code: str, spec: Any) -> Category:
    """Validate one category entry."""
    where = f"categories.{code}"
    if not _CODE.match(code) or code == "none":
        raise TaxonomyError(f"{where}: a code is lower-case letters, digits and _ (not 'none'), got {code!r}")
    spec = _mapping(spec, where)
    _known(spec, _CATEGORY_KEYS, where)
    names = _names(spec.get("names") or {"zh-Hans": code}, f"{where}.names")
    keywords = _weights(spec.get("keywords"), f"{where}.keywords")
    learned_as = spec.get("learned_as", code)
    if not isinstance(learned_as, str) or not learned_as:
        raise TaxonomyError(f"{where}.learned_as: must be a category code of the trained model")
    return Category(code=code, names=names, keywords=keywords, learned_as=learned_as)


def _names(value: Any, where: str) -> dict[str, str]:
    """Validate display names by locale."""
    names = {}
    for locale, name in _mapping(value, where).items():
        if not isinstance(name, str) or not name.strip():
            raise TaxonomyError(f"{where}.{locale}: a display name must be a non-empty string")
        names[str(locale)] = name.strip()
    return names


def _weights(value: Any, where: str) -> dict[str, float]:
    """Validate a keyword → weight mapping (keys are coerced to text: 119 and 'ok' are fine)."""
    weights = {}
    for key, weight in _mapping(value, where).items():
        if isinstance(key, bool) or key is None:
            raise TaxonomyError(f"{where}.{key}: quote this keyword; YAML read it as {key!r}")
        term = str(key).strip()
        if not term:
            raise TaxonomyError(f"{where}: an empty keyword")
        weights[term] = _number(weight, f"{where}.{term}", -_MAX_WEIGHT, _MAX_WEIGHT)
    return weights


def _mapping(value: Any, where: str) -> Mapping[Any, Any]:
    """A mapping, or an empty one for a missing value."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TaxonomyError(f"{where}: must be a mapping, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """A list of non-empty strings."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise TaxonomyError(f"{where}: must be a list, got {type(value).__name__}")
    items = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or item is None or not str(item).strip():
            raise TaxonomyError(f"{where}[{i}]: must be a non-empty string, got {item!r}")
        items.append(str(item).strip())
    return tuple(items)


def _known(spec: Mapping[Any, Any], known: set[str], where: str) -> None:
    """Refuse keys that would otherwise be silently ignored."""
    unknown = sorted(str(key) for key in spec if str(key) not in known)
    if unknown:
        raise TaxonomyError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")


def _number(value: Any, where: str, low: float, high: float) -> float:
    """A finite number within bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TaxonomyError(f"{where}: must be a number, got {value!r}")
    if not low <= value <= high:
        raise TaxonomyError(f"{where}: must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _regex(value: Any, where: str) -> str:
    """A regular expression that compiles."""
    if not isinstance(value, str) or not value:
        raise TaxonomyError(f"{where}: must be a non-empty regular expression")
    try:
        re.compile(value)
    except re.error as error:
        raise TaxonomyError(f"{where}: invalid regular expression: {error}") from error
    return value
