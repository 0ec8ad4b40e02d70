"""Request recognition for residents' messages: folding, taxonomy and the keyword classifier."""

from nlp.classifier import KeywordClassifier
from nlp.normalize import NormalizedText, Normalizer
from nlp.taxonomy import Taxonomy, TaxonomyError, default_taxonomy, load_taxonomy

__all__ = [
    "KeywordClassifier",
    "NormalizedText",
    "Normalizer",
    "Taxonomy",
    "TaxonomyError",
    "default_taxonomy",
    "load_taxonomy",
]
