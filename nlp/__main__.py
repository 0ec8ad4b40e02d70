"""`python -m nlp classify [--explain]` and `python -m nlp eval FILE`."""

from __future__ import annotations

import argparse
import sys

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
    args = parser.parse_args(argv)
    if args.command == "classify":
        return classify_main(sys.stdin, sys.stdout, explain=args.explain, taxonomy=args.taxonomy)
    return eval_main(args.file, sys.stdout, taxonomy=args.taxonomy, show_mistakes=args.mistakes)


if __name__ == "__main__":
    sys.exit(main())
