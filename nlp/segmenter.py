"""Builds the classifier's own jieba tokenizer quickly: a pruned dictionary, cached on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from importlib import resources
from pathlib import Path

import jieba

logger = logging.getLogger(__name__)

# jieba's full dictionary (349k words) takes ~0.8 s and ~60 MiB to load; words seen fewer than
# five times in its corpus are rare enough to lose, and the rest loads in about a third of that.
DEFAULT_MIN_WORD_FREQ = 5


def default_cache_dir() -> Path:
    """Where the pruned dictionary and jieba's model cache are kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "residents-bot" / "nlp"


def build_tokenizer(
    cache_dir: str | Path | None = None, min_word_freq: int = DEFAULT_MIN_WORD_FREQ
) -> jieba.Tokenizer:
    """A new initialised jieba.Tokenizer (never the global jieba.dt) with the domain user dictionary."""
    # jieba logs its progress at DEBUG through its own stderr handler, bypassing the app's logging.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    directory = _writable_dir(Path(cache_dir) if cache_dir else default_cache_dir())
    dictionary = None
    if directory is not None and min_word_freq > 1:
        dictionary = _pruned_dictionary(directory, min_word_freq)
    tokenizer = jieba.Tokenizer(str(dictionary)) if dictionary else jieba.Tokenizer()
    if directory is not None:
        tokenizer.tmp_dir = str(directory)
    tokenizer.initialize()
    with resources.files("nlp").joinpath("data/userdict.txt").open("rb") as userdict:
        tokenizer.load_userdict(userdict)
    return tokenizer


def _writable_dir(directory: Path) -> Path | None:
    """The cache directory if it can be created and written, else a temporary one, else None."""
    for candidate in (directory, Path(tempfile.gettempdir()) / "residents-bot-nlp"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            continue
    return None


def _pruned_dictionary(directory: Path, min_word_freq: int) -> Path | None:
    """Write (once) jieba's dictionary without its rarest words; None to fall back to the full one."""
    source = Path(jieba.__file__).with_name("dict.txt")
    try:
        stat = source.stat()
    except OSError:
        return None
    stamp = hashlib.sha1(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{min_word_freq}".encode()).hexdigest()[
        :12
    ]
    target = directory / f"jieba-dict-f{min_word_freq}-{stamp}.txt"
    if target.exists():
        return target
    try:
        kept = []
        with source.open(encoding="utf-8") as lines:
            for line in lines:
                parts = line.split(" ")
                if len(parts) >= 2 and parts[1].strip().isdigit() and int(parts[1]) >= min_word_freq:
                    kept.append(line if line.endswith("\n") else line + "\n")
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text("".join(kept), encoding="utf-8")
        os.replace(partial, target)
    except OSError as error:
        logger.warning("cannot write the pruned jieba dictionary to %s: %s", directory, error)
        return None
    return target
