"""The taxonomy as data: defaults, a community's overrides, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.classifier import KeywordClassifier
from nlp.taxonomy import TaxonomyError, default_taxonomy, load_taxonomy
from tests.nlp.support import shared_classifier

DEFAULT_ORDER = (
    "safety", "care", "repair", "dispute", "parking", "sanitation", "property", "consult", "suggestion", "other"
)  # fmt: skip


def test_default_taxonomy_has_the_ten_categories_in_priority_order() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.codes == DEFAULT_ORDER
    assert taxonomy.threshold == 0.5
    for category in taxonomy.categories:
        assert {"zh-Hans", "zh-Hant", "en"} <= set(category.names)
        if category.code != "other":
            assert len(category.keywords) >= 20, category.code


def test_override_renames_adds_and_removes_keywords() -> None:
    taxonomy = load_taxonomy(
        {
            "categories": {
                "repair": {"names": {"zh-Hans": "维修"}, "keywords": {"晾衣杆": 1.2, "电梯": None}},
            }
        }
    )
    repair = taxonomy.category("repair")
    assert repair is not None
    assert repair.names["zh-Hans"] == "维修"
    assert repair.names["en"] == "Repair"
    assert repair.keywords["晾衣杆"] == 1.2
    assert "电梯" not in repair.keywords
    assert "停水" in repair.keywords


def test_a_new_category_goes_before_other_and_a_removed_one_disappears() -> None:
    taxonomy = load_taxonomy(
        {"categories": {"pets": {"names": {"zh-Hans": "宠物"}, "keywords": {"遛狗": 1.5}}, "consult": None}}
    )
    assert taxonomy.codes[-2:] == ("pets", "other")
    assert "consult" not in taxonomy.codes
    for pattern in taxonomy.patterns:
        assert "consult" not in pattern.weights


def test_codes_can_be_renamed_with_their_references() -> None:
    taxonomy = load_taxonomy({"rename": {"repair": "maintenance"}})
    assert "maintenance" in taxonomy.codes and "repair" not in taxonomy.codes
    assert any(u.category == "maintenance" for u in taxonomy.urgent)


def test_priority_can_be_reordered() -> None:
    order = list(reversed(DEFAULT_ORDER))
    assert load_taxonomy({"priority": order}).codes == tuple(order)


def test_override_may_come_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "community.yaml"
    path.write_text(
        "threshold: 0.6\ncategories:\n  parking:\n    keywords:\n      充电车位: 1.5\n", encoding="utf-8"
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.threshold == 0.6
    assert taxonomy.category("parking").keywords["充电车位"] == 1.5


def test_community_keywords_change_what_the_classifier_says() -> None:
    base = shared_classifier()
    community = base.with_taxonomy({"categories": {"repair": {"keywords": {"晾衣杆": 1.5}}}})
    assert isinstance(community, KeywordClassifier)
    assert community.classify("小区的晾衣杆断了").category == "repair"
    assert community.taxonomy.category("repair").keywords["晾衣杆"] == 1.5


def test_traditional_keywords_are_folded_like_messages() -> None:
    community = shared_classifier().with_keywords("repair", add={"曬衣架": 1.5})
    assert "晒衣架" in community.classify("小区的晒衣架断了").keywords


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"categories": {"repair": {"keywords": {"电梯": "heavy"}}}}, "categories.repair.keywords.电梯"),
        ({"categories": {"repair": {"keywords": {"电梯": 99}}}}, "categories.repair.keywords.电梯"),
        ({"categories": {"repair": {"colour": "red"}}}, "categories.repair.colour"),
        ({"categories": {"Bad Code": {"keywords": {}}}}, "categories.Bad Code"),
        ({"categories": {"nope": None}}, "categories.nope"),
        ({"threshold": 2}, "threshold"),
        ({"priority": ["repair", "nope"]}, "priority"),
        ({"patterns": {"broken": {"regex": "(unclosed", "weights": {"repair": 1}}}}, "patterns.broken.regex"),
        ({"patterns": {"odd": {"regex": "x", "weights": {"nope": 1}}}}, "patterns.odd.weights.nope"),
        ({"urgent": {"odd": {"regex": "x", "category": "nope"}}}, "urgent.odd.category"),
        ({"scoring": {"slope": "steep"}}, "scoring.slope"),
        ({"colour": "red"}, "colour"),
        ({"rename": {"nope": "x"}}, "rename.nope"),
        ({"non_request_cues": {True: 1.0}}, "non_request_cues.True"),
    ],
)
def test_a_bad_override_is_refused_with_the_key_named(override: dict, named: str) -> None:
    with pytest.raises(TaxonomyError) as error:
        load_taxonomy(override)
    assert named in str(error.value)


def test_a_bad_yaml_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"broken\.yaml"):
        load_taxonomy(path)


def test_taxonomy_errors_are_value_errors() -> None:
    assert issubclass(TaxonomyError, ValueError)
