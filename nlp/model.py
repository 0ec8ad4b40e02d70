"""The statistical half of the classifier: a linear model over character n-grams of the folded text.

Keywords name the problems someone thought of; the model has learnt from the project's own labelled
corpus (``tests/data``) how residents and petitioners phrase requests, which carries over to wording
nobody wrote a keyword for. It is trained offline by ``python -m nlp train`` (scikit-learn, a
development dependency) and shipped as ``data/model.npz``; here it is only applied, with numpy, so
start-up stays well under a second and no training library is needed at run time.

Features are TF-IDF weighted character 1–3-grams (digits folded to 0, the text framed by ``^`` and
``$``), binary term frequency (present or not), L2-normalised — exactly what scikit-learn's
``TfidfVectorizer(binary=True)`` computes with :func:`ngrams` as its analyzer;
``tests/nlp/test_model.py`` checks that both agree.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import zipfile
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


def ngrams(folded: str) -> list[str]:
    """The character 1–3-grams of a folded message (digits as 0, framed by ^ and $), with repeats."""
    text = "^" + folded[:MAX_MODEL_CHARS].lower().translate(_DIGITS) + "$"
    size = len(text)
    grams = list(text[1:-1].replace(" ", ""))
    cut = text.__getitem__
    # Slicing by prepared slice objects through map is about twice as fast as a comprehension.
    grams += map(cut, _BIGRAMS[: size - 1])
    grams += map(cut, _TRIGRAMS[: size - 2])
    return grams


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
    ) -> None:
        """Wrap trained arrays; ``weights`` has one row per vocabulary entry, one column per label."""
        if weights.shape != (len(vocabulary), len(labels)) or idf.shape != (len(vocabulary),):
            raise ValueError("model arrays do not fit the vocabulary and labels")
        if "none" not in labels or "other" not in labels:
            raise ValueError("a model must know the labels none and other")
        self._index = {gram: position for position, gram in enumerate(vocabulary)}
        self._blank = len(vocabulary)
        self._idf = idf.astype(np.float64)
        self._weights = weights.astype(np.float64)
        table = np.hstack([self._weights * self._idf[:, None], (self._idf**2)[:, None]])
        self._table = np.vstack([table, np.zeros((1, len(labels) + 1))])
        self._intercept = intercept.astype(np.float64)
        self.labels: tuple[str, ...] = tuple(labels)
        self.info = info

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> TextModel:
        """Read a model written by :meth:`save` (raises OSError or ValueError when it is unusable)."""
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            return cls(
                vocabulary=[str(gram) for gram in archive["vocabulary"]],
                idf=archive["idf"],
                weights=archive["weights"],
                intercept=archive["intercept"],
                labels=list(meta["labels"]),
                info=ModelInfo(meta["trained_on"], int(meta["rows"]), dict(meta["settings"])),
            )

    def save(self, path: str | Path) -> None:
        """Write the model as a compressed numpy archive (no pickles: safe to load)."""
        vocabulary = sorted(self._index, key=self._index.__getitem__)
        meta = {
            "labels": list(self.labels),
            "trained_on": self.info.trained_on,
            "rows": self.info.rows,
            "settings": self.info.settings,
        }
        np.savez_compressed(
            path,
            vocabulary=np.array(vocabulary),
            idf=self._idf.astype(np.float32),
            weights=self._weights.astype(np.float32),
            intercept=self._intercept.astype(np.float32),
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )

    @property
    def size(self) -> int:
        """Number of n-grams the model knows."""
        return len(self._index)

    def logits(self, folded: str) -> np.ndarray:
        """Raw label scores (log-probabilities up to a common constant), in the order of :attr:`labels`."""
        grams = set(ngrams(folded))
        # Every lookup in C (map, fromiter); an n-gram the model does not know points at the blank last
        # row of zeros. Each row holds idf × weights and, last, idf²: one sum gives the weighted total and
        # the squared norm of the TF-IDF vector (binary tf), so the L2 normalisation is one division.
        rows = np.fromiter(
            map(self._index.get, grams, itertools.repeat(self._blank)), dtype=np.intp, count=len(grams)
        )
        total = self._table[rows].sum(axis=0)
        if total[-1] <= 0.0:
            return self._intercept.copy()
        return total[:-1] / math.sqrt(total[-1]) + self._intercept

    def log_probabilities(self, folded: str) -> np.ndarray:
        """Natural-log label probabilities, in the order of :attr:`labels`."""
        scores = self.logits(folded)
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
