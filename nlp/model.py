"""The statistical half of the classifier: a linear model over character n-grams of the folded text.

Keywords name the problems someone thought of; the model has learnt from the project's own labelled
corpus (``tests/data``) how residents and petitioners phrase requests, which carries over to wording
nobody wrote a keyword for. It is trained offline by ``python -m nlp train`` (scikit-learn, a
development dependency) and shipped as ``data/model.npz``; here it is only applied, with numpy, so
start-up stays well under a second and no training library is needed at run time.

A second, binary head over the same kind of features says how likely a message is an emergency
happening now (:class:`UrgencyHead`). The urgent patterns of the taxonomy name the ways someone thought
of; the head has learnt from the corpus's urgent rows and their near-misses, so it catches emergencies
worded in ways no pattern foresaw. Both heads are applied in the same single pass over the n-grams.

Features are TF-IDF weighted character 1–3-grams (digits folded to 0, an address or phone number
folded to ``#``, the text framed by ``^`` and ``$``), binary term frequency (present or not),
L2-normalised — exactly what scikit-learn's ``TfidfVectorizer(binary=True)`` computes with
:func:`ngrams` as its analyzer;
``tests/nlp/test_model.py`` checks that both agree.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).with_name("data") / "model.npz"
# The model reads the same bounded prefix as the keyword scan does.
MAX_MODEL_CHARS = 600
_DIGITS = str.maketrans("0123456789", "0000000000")
_BIGRAMS = [slice(start, start + 2) for start in range(MAX_MODEL_CHARS + 1)]
_TRIGRAMS = [slice(start, start + 3) for start in range(MAX_MODEL_CHARS)]


# After digits are folded: a building / unit / room address (7栋1单元502, 3-2-1101, 12号楼, 502室) or a
# phone number is one mark (#). Spelled out digit by digit, an address taught the urgency head that a
# precise location means an emergency (round 16); as one mark it weighs as little as any other n-gram.
_ADDRESS = re.compile(r"(?:0+(?:号楼|栋|幢|座|单元|[-#—])){1,3}0*(?:室|号(?!楼)|层)?|0+(?:室|户)|0{7,}")


def _gram_parts(folded: str) -> tuple[str, Iterator[str], Iterator[str]]:
    """The unigrams (a string, spaces left out), bigrams and trigrams of a folded message, framed by ^ and $."""
    text = "^" + folded[:MAX_MODEL_CHARS].lower().translate(_DIGITS) + "$"
    if "0" in text:
        text = _ADDRESS.sub("#", text)
    size = len(text)
    cut = text.__getitem__
    # Slicing by prepared slice objects through map is about twice as fast as a comprehension.
    return text[1:-1].replace(" ", ""), map(cut, _BIGRAMS[: size - 1]), map(cut, _TRIGRAMS[: size - 2])


def ngrams(folded: str) -> list[str]:
    """The character 1–3-grams of a folded message (digits as 0, framed by ^ and $), with repeats."""
    unigrams, bigrams, trigrams = _gram_parts(folded)
    grams = list(unigrams)
    grams += bigrams
    grams += trigrams
    return grams


def _gram_set(folded: str) -> set[str]:
    """The distinct n-grams of :func:`ngrams` (what binary TF counts), built as a set directly."""
    unigrams, bigrams, trigrams = _gram_parts(folded)
    grams = set(unigrams)
    grams.update(bigrams, trigrams)
    return grams


@dataclass(frozen=True, slots=True)
class UrgencyHead:
    """A logistic regression "is this an emergency now?" over its own n-gram vocabulary.

    ``categories`` are the labels the corpus has urgent rows for: the classifier lets the head raise
    the urgent flag only on a request of one of them (an emergency is not a parking fee).
    """

    vocabulary: list[str]
    idf: np.ndarray
    weights: np.ndarray
    intercept: float
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Learned:
    """What one pass of the model says of a message: label scores and, if the model has the head, urgency."""

    logits: np.ndarray
    urgency: float | None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a model was trained on and how (kept inside the model file, shown by ``--explain``)."""

    trained_on: dict[str, str]
    rows: int
    settings: dict[str, Any]


class TextModel:
    """Applies the trained n-gram model: label probabilities for a folded message."""

    def __init__(
        self,
        vocabulary: list[str],
        idf: np.ndarray,
        weights: np.ndarray,
        intercept: np.ndarray,
        labels: list[str],
        info: ModelInfo,
        urgency: UrgencyHead | None = None,
    ) -> None:
        """Wrap trained arrays; ``weights`` has one row per vocabulary entry, one column per label."""
        if weights.shape != (len(vocabulary), len(labels)) or idf.shape != (len(vocabulary),):
            raise ValueError("model arrays do not fit the vocabulary and labels")
        if "none" not in labels or "other" not in labels:
            raise ValueError("a model must know the labels none and other")
        if urgency is not None and (
            urgency.weights.shape != (len(urgency.vocabulary),) or urgency.idf.shape != urgency.weights.shape
        ):
            raise ValueError("urgency arrays do not fit its vocabulary")
        self._vocabulary = list(vocabulary)
        self._idf = idf.astype(np.float64)
        self._weights = weights.astype(np.float64)
        self._intercept = intercept.astype(np.float64)
        self.labels: tuple[str, ...] = tuple(labels)
        self.info = info
        self.urgency = urgency
        # One table over the union of both vocabularies, one row per n-gram: the labels' idf × weights,
        # idf² (for the labels' L2 norm), then the head's idf × weight and idf² (its own norm); an n-gram
        # one vocabulary lacks has zeros in that part. The last row, all zeros, stands for unknown n-grams.
        grams = list(vocabulary)
        if urgency is not None:
            known = set(grams)
            grams += [gram for gram in urgency.vocabulary if gram not in known]
        self._index = {gram: position for position, gram in enumerate(grams)}
        self._blank = len(grams)
        width = len(labels) + (3 if urgency is not None else 1)
        table = np.zeros((len(grams) + 1, width))
        rows = np.arange(len(vocabulary))
        table[rows, : len(labels)] = self._weights * self._idf[:, None]
        table[rows, len(labels)] = self._idf**2
        if urgency is not None:
            head_rows = np.fromiter(map(self._index.__getitem__, urgency.vocabulary), dtype=np.intp)
            head_idf = urgency.idf.astype(np.float64)
            table[head_rows, -2] = urgency.weights.astype(np.float64) * head_idf
            table[head_rows, -1] = head_idf**2
        self._table = table

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> TextModel:
        """Read a model written by :meth:`save` (raises OSError or ValueError when it is unusable)."""
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            urgency = None
            if "urgent_vocabulary" in archive:
                urgency = UrgencyHead(
                    vocabulary=[str(gram) for gram in archive["urgent_vocabulary"]],
                    idf=archive["urgent_idf"],
                    weights=archive["urgent_weights"],
                    intercept=float(meta["urgent_intercept"]),
                    categories=tuple(meta["urgent_categories"]),
                )
            return cls(
                vocabulary=[str(gram) for gram in archive["vocabulary"]],
                idf=archive["idf"],
                weights=archive["weights"],
                intercept=archive["intercept"],
                labels=list(meta["labels"]),
                info=ModelInfo(meta["trained_on"], int(meta["rows"]), dict(meta["settings"])),
                urgency=urgency,
            )

    def save(self, path: str | Path) -> None:
        """Write the model as a compressed numpy archive (no pickles: safe to load)."""
        meta: dict[str, Any] = {
            "labels": list(self.labels),
            "trained_on": self.info.trained_on,
            "rows": self.info.rows,
            "settings": self.info.settings,
        }
        head: dict[str, np.ndarray] = {}
        if self.urgency is not None:
            meta["urgent_intercept"] = self.urgency.intercept
            meta["urgent_categories"] = list(self.urgency.categories)
            head = {
                "urgent_vocabulary": np.array(self.urgency.vocabulary),
                "urgent_idf": self.urgency.idf.astype(np.float32),
                "urgent_weights": self.urgency.weights.astype(np.float32),
            }
        np.savez_compressed(
            path,
            vocabulary=np.array(self._vocabulary),
            idf=self._idf.astype(np.float32),
            weights=self._weights.astype(np.float32),
            intercept=self._intercept.astype(np.float32),
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
            **head,
        )

    @property
    def size(self) -> int:
        """Number of n-grams the label scores use."""
        return len(self._vocabulary)

    def analyse(self, folded: str) -> Learned:
        """Label scores and the urgency probability of a message, from one pass over its n-grams."""
        grams = _gram_set(folded)
        # Every lookup in C (map, fromiter); an n-gram the model does not know points at the blank last
        # row of zeros. One sum gives each head's weighted total and the squared norm of its TF-IDF
        # vector (binary tf), so each L2 normalisation is one division.
        rows = np.fromiter(
            map(self._index.get, grams, itertools.repeat(self._blank)), dtype=np.intp, count=len(grams)
        )
        total = np.add.reduce(self._table.take(rows, axis=0))
        count = len(self.labels)
        norm = total[count]
        logits = total[:count] / math.sqrt(norm) + self._intercept if norm > 0.0 else self._intercept.copy()
        urgency = None
        if self.urgency is not None:
            head_norm = total[-1]
            score = self.urgency.intercept + (total[-2] / math.sqrt(head_norm) if head_norm > 0.0 else 0.0)
            urgency = 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0
        return Learned(logits, urgency)

    def logits(self, folded: str) -> np.ndarray:
        """Raw label scores (log-probabilities up to a common constant), in the order of :attr:`labels`."""
        return self.analyse(folded).logits

    def log_probabilities(self, folded: str, logits: np.ndarray | None = None) -> np.ndarray:
        """Natural-log label probabilities, in the order of :attr:`labels` (from ``logits`` if given)."""
        scores = self.logits(folded) if logits is None else logits
        top = scores.max()
        return scores - (top + math.log(float(np.exp(scores - top).sum())))

    def probabilities(self, folded: str) -> dict[str, float]:
        """Label probabilities for a folded message (they sum to 1)."""
        return dict(zip(self.labels, np.exp(self.log_probabilities(folded)).tolist(), strict=True))


@functools.cache
def default_model() -> TextModel | None:
    """The shipped model, loaded once per process; None (keywords alone, logged) if it cannot be read."""
    try:
        return TextModel.load(DEFAULT_MODEL)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        logger.warning("n-gram model %s not usable (%s): keywords and rules alone", DEFAULT_MODEL, error)
        return None
