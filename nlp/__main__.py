"""`python -m nlp classify [--explain]`, `eval FILE`, `train` (the n-gram model) and `crossval`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nlp.cli import classify_main, eval_main


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run classify or eval."""
    parser = argparse.ArgumentParser(prog="python -m nlp", description="邻里说事 request classifier")
    commands = parser.add_subparsers(dest="command", required=True)
    classify = commands.add_parser(
        "classify", help="classify one message per line of stdin, print JSON lines"
    )
    classify.add_argument("--explain", action="store_true", help="add tokens, scores and cues")
    classify.add_argument("--taxonomy", help="a community taxonomy override (YAML)")
    evaluation = commands.add_parser("eval", help="evaluate on a labelled CSV/TSV (text, label, urgent)")
    evaluation.add_argument("file")
    evaluation.add_argument("--taxonomy", help="a community taxonomy override (YAML)")
    evaluation.add_argument("--mistakes", action="store_true", help="list the misclassified messages")
    train = commands.add_parser("train", help="train the n-gram model on the files in nlp/data/training.txt")
    train.add_argument("--output", help="where to write the model (default: nlp/data/model.npz)")
    train.add_argument("--c", type=float, help="inverse regularisation strength (default 10)")
    crossval = commands.add_parser("crossval", help="leave one training file out at a time and print figures")
    crossval.add_argument("--c", type=float, help="inverse regularisation strength (default 10)")
    crossval.add_argument(
        "--only", action="append", default=[], metavar="FILE", help="leave out just this training file (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.command in ("train", "crossval"):
        return _train(args)
    if args.command == "classify":
        return classify_main(sys.stdin, sys.stdout, explain=args.explain, taxonomy=args.taxonomy)
    return eval_main(args.file, sys.stdout, taxonomy=args.taxonomy, show_mistakes=args.mistakes)


def _train(args: argparse.Namespace) -> int:
    """Train and save the model, or cross-validate it (needs scikit-learn: pip install -e '.[dev]')."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        sys.stderr.write("training needs scikit-learn; install the dev extra: pip install -e '.[dev]'\n")
        return 2
    from nlp import training

    c = args.c or training.DEFAULT_C
    if args.command == "crossval":
        try:
            training.cross_validate(c=c, out=sys.stdout, only=[Path(name) for name in args.only])
        except ValueError as error:
            sys.stderr.write(f"{error}\n")
            return 2
        return 0
    from nlp.model import DEFAULT_MODEL

    model = training.train(c=c)
    output = args.output or DEFAULT_MODEL
    model.save(output)
    sys.stdout.write(
        f"trained on {model.info.rows} rows of {len(model.info.trained_on)} files; "
        f"{model.size} n-grams; written to {output}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
