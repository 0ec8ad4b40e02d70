"""`classify` prints one JSON object per input line; `eval` prints the figures of a labelled file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from nlp.cli import classify_main, eval_main
from tests.nlp.support import shared_classifier

ROOT = Path(__file__).resolve().parents[2]


def test_classify_prints_one_json_object_per_line() -> None:
    out = io.StringIO()
    code = classify_main(
        io.StringIO("电梯困人了\n大家早上好\n樓上裝修噪音太大\n"), out, classifier=shared_classifier()
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0
    assert [line["category"] for line in lines] == ["repair", "none", "dispute"]
    assert lines[0]["urgent"] is True
    assert lines[2]["text"] == "樓上裝修噪音太大"
    assert {"text", "category", "urgent", "confidence", "keywords", "rule"} <= set(lines[0])
    assert "樓上" in out.getvalue()  # ensure_ascii=False


def test_classify_explain_adds_tokens_and_scores() -> None:
    out = io.StringIO()
    classify_main(io.StringIO("管理處什麼時候來修\n"), out, explain=True, classifier=shared_classifier())
    line = json.loads(out.getvalue())
    assert "管理处" in line["tokens"]
    assert "scores" in line and "folded" in line


def test_eval_reads_a_tsv_and_prints_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "tiny.tsv"
    path.write_text(
        "text\tlabel\turgent\n电梯困人了\trepair\t1\n大家早上好\tnone\t0\n楼道好臭\tsanitation\t0\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert eval_main(path, out, classifier=shared_classifier()) == 0
    report = out.getvalue()
    for figure in (
        "request precision: 1.000",
        "request recall:    1.000",
        "urgent recall: 1.000",
        "macro-F1",
        "messages/s",
    ):
        assert figure in report
    assert "confusion matrix" in report and "ask rate" in report


def test_eval_reads_a_csv_with_columns_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text(
        'id,label,urgent,text\n1,repair,0,"电梯坏了,麻烦修一下"\n2,none,0,谢谢\n', encoding="utf-8"
    )
    out = io.StringIO()
    assert eval_main(path, out, classifier=shared_classifier()) == 0
    assert "messages: 2" in out.getvalue()


def test_eval_reads_labels_written_as_names_or_in_capitals(tmp_path: Path) -> None:
    # People who label by hand write 报修, 報修 or Repair; each counts as the code, not as a label of its own.
    path = tmp_path / "names.csv"
    path.write_text(
        "text,label\n电梯坏了 麻烦修一下,报修\n樓道燈壞了,報修\n3栋门禁坏了进不去,Repair\n谢谢楼长,非诉求\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert eval_main(path, out, classifier=shared_classifier()) == 0
    report = out.getvalue()
    assert "category accuracy on requests: 1.000" in report
    assert "报修" not in report and "Repair" not in report


def test_eval_refuses_a_file_without_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("message,category\n电梯坏了,repair\n", encoding="utf-8")
    out = io.StringIO()
    assert eval_main(path, out, classifier=shared_classifier()) == 2
    assert "text and label" in out.getvalue()


def test_python_dash_m_nlp_classify_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nlp", "classify"],
        input="楼道灯不亮了\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout)["category"] == "repair"


def test_crossval_leaves_out_only_the_named_files(tmp_path: Path) -> None:
    from nlp.training import cross_validate

    files = []
    for name, rows in (
        ("a.tsv", ["电梯坏了\trepair\t0", "谢谢大家\tnone\t0", "楼道灯不亮了\trepair\t0", "早上好\tnone\t0", "小区规划有问题\tother\t0"]),
        ("b.tsv", ["电梯又坏了\trepair\t0", "收到\tnone\t0", "路灯坏了\trepair\t0", "晚安\tnone\t0", "拆迁补偿不合理\tother\t0"]),
        ("c.tsv", ["水管坏了\trepair\t0", "好的\tnone\t0", "门禁坏了\trepair\t0", "哈哈\tnone\t0", "学校划片不公平\tother\t0"]),
    ):
        path = tmp_path / name
        path.write_text("text\tlabel\turgent\n" + "\n".join(rows) + "\n", encoding="utf-8")
        files.append(path)
    out = io.StringIO()
    results = cross_validate(files, out=out, only=[files[1]])
    assert [name for name, _ in results] == ["b.tsv"] and results[0][1].count == 5
    assert out.getvalue().startswith("b.tsv")
    try:
        cross_validate(files, only=[tmp_path / "d.tsv"])
    except ValueError as error:
        assert "d.tsv" in str(error)
    else:
        raise AssertionError("an unknown file was accepted")
