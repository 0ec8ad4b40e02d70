"""Classifier benchmark: start-up time, memory, messages per second and per-message latency.

Start-up and memory are measured in fresh processes (warm dictionary cache, and once with an empty
cache directory: the first start of a new installation). Speed is measured on the development
corpus, message by message, on one core.

    .venv/bin/python bench/classify.py [--rounds 20] [--corpus tests/data/dev_corpus.tsv]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.classifier import KeywordClassifier
from nlp.evaluation import read_labelled

_START_UP = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
from nlp.classifier import KeywordClassifier
imported = time.perf_counter()
classifier = KeywordClassifier(cache_dir={cache_dir!r})
built = time.perf_counter()
classifier.classify("电梯坏了")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"import": imported - started, "build": built - imported, "total": built - started,
                  "rss_before_mib": before / 1024, "rss_after_mib": after / 1024}}))
"""


def start_up(cache_dir: str | None) -> dict[str, float]:
    """Start a fresh interpreter, build a classifier, report times (s) and peak RSS (MiB)."""
    code = _START_UP.format(root=str(ROOT), cache_dir=cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def latencies(classifier: KeywordClassifier, texts: list[str], rounds: int) -> list[float]:
    """Seconds per classify call, every message of every round."""
    timer = time.perf_counter
    measured = []
    for _ in range(rounds):
        for text in texts:
            started = timer()
            classifier.classify(text)
            measured.append(timer() - started)
    return measured


def main() -> int:
    """Print start-up, memory and speed figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--corpus", default=str(ROOT / "tests" / "data" / "dev_corpus.tsv"))
    args = parser.parse_args()

    warm = [start_up(None) for _ in range(3)]
    with tempfile.TemporaryDirectory() as empty:
        cold = start_up(empty)
    best = min(warm, key=lambda figures: figures["total"])
    print("start-up (fresh process, warm cache, best of 3):")
    print(f"  import {best['import']:.3f} s + build {best['build']:.3f} s = {best['total']:.3f} s")
    print(f"  first start of an installation (empty cache): {cold['total']:.3f} s")
    print(
        f"memory: peak RSS {best['rss_after_mib']:.0f} MiB with the classifier "
        f"(interpreter alone {best['rss_before_mib']:.0f} MiB, "
        f"classifier ≈ {best['rss_after_mib'] - best['rss_before_mib']:.0f} MiB)"
    )

    classifier = KeywordClassifier()
    texts = [message.text for message in read_labelled(args.corpus)]
    latencies(classifier, texts, 1)  # warm-up
    cpu_started = time.process_time()
    measured = sorted(latencies(classifier, texts, args.rounds))
    cpu = time.process_time() - cpu_started
    count = len(measured)
    total = sum(measured)
    print(f"speed on {len(texts)} corpus messages × {args.rounds} rounds (one thread):")
    print(f"  {count / total:,.0f} messages/s by the wall clock, mean {total / count * 1e6:.0f} µs")
    print(f"  {count / cpu:,.0f} messages/s of CPU time (what one core does when it is not shared)")
    print(
        f"  p50 {measured[count // 2] * 1e6:.0f} µs, p99 {measured[int(count * 0.99)] * 1e6:.0f} µs, "
        f"max {measured[-1] * 1e6:.0f} µs"
    )

    long_messages = {
        "4096 chars of complaint": ("楼上装修噪音太大，吵得睡不着。" * 300)[:4096],
        "4096 emoji": "😀" * 4096,
        "4096 letters": "a" * 4096,
    }
    for name, text in long_messages.items():
        best_time = min(latencies(classifier, [text], 20))
        print(f"  {name}: {best_time * 1e3:.2f} ms")
    explain_time = statistics.median(_timed_explain(classifier, text) for text in texts[:200])
    print(f"  with explain (jieba tokens): median {explain_time * 1e6:.0f} µs")
    return 0


def _timed_explain(classifier: KeywordClassifier, text: str) -> float:
    """Seconds for one classify call that also tokenizes."""
    started = time.perf_counter()
    classifier.classify(text, explain=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
