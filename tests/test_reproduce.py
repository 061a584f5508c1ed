"`ch4grade reproduce`: section planning, the table, JSON output and exit codes, on the real data."
import json

import pytest

from autograders.cli import main
from reference import reproduce
from reference.rows import KEYS, at_least, check_row, exact, row


def test_plan_skip_only_and_quick():
    run, skipped = reproduce.plan()
    assert run == list(reproduce.SECTIONS) and skipped == {}
    run, skipped = reproduce.plan(skip="resnet,full_mnist")
    assert "resnet" not in run and skipped == {"resnet": "--skip", "full_mnist": "--skip"}
    run, skipped = reproduce.plan(quick=True)
    assert "resnet" not in run and skipped == {"resnet": "--quick"}
    run, _ = reproduce.plan(only="sgd,resnet", quick=True)  # named explicitly: runs even with --quick
    assert run == ["sgd", "resnet"]
    with pytest.raises(SystemExit):
        reproduce.plan(skip="nonsense")


def test_row_helpers():
    assert exact("s", "n", 0.11141, 0.1114)["passed"]
    assert not exact("s", "n", 0.1116, 0.1114)["passed"]
    assert at_least("s", "n", 0.97, 0.96)["passed"] and not at_least("s", "n", 0.95, 0.96)["passed"]
    r = row("s", "n", 1, "= 1", True, 0.5)
    assert tuple(r) == KEYS and check_row(r) is r
    with pytest.raises(ValueError):
        check_row({"section": "s"})


def test_table_has_every_column():
    text = reproduce.format_table([{**row("sgd", "grad", 6.0, "= 6.0", True, 0.01), "device": "cpu"},
                                   {**row("linear", "acc", 0.95, ">= 0.96", False, 1.2), "device": "cpu"}])
    header, _, first, second = text.splitlines()
    assert header.split() == list(reproduce.COLUMNS)
    assert "pass" in first and "FAIL" in second and "0.95" in second


def test_cli_runs_cheap_sections_and_writes_json(mnist_dir, tmp_path, capsys):
    out = tmp_path / "rows.json"
    rc = main(["reproduce", "--only", "pixel_similarity,sgd", "--device", "cpu", "--json", str(out)])
    report = json.loads(out.read_text())
    assert rc == 0 and report["passed"] is True
    assert {r["section"] for r in report["rows"]} == {"pixel_similarity", "sgd"}
    assert len(report["rows"]) == 20 and all(r["passed"] and r["device"].startswith("cpu") for r in report["rows"])
    table = capsys.readouterr().out
    assert "0.9511" in table and "20/20 rows pass" in table


def test_json_to_stdout(mnist_dir, capsys):
    rc = main(["reproduce", "--only", "sgd", "--json", "-"])
    captured = capsys.readouterr()
    assert rc == 0 and json.loads(captured.out)["rows"][0]["section"] == "sgd"
    assert "rows pass" in captured.err


def test_a_section_not_written_yet_fails_the_run(monkeypatch, capsys):
    monkeypatch.setitem(reproduce.SECTIONS, "later", "reference._not_written_yet")
    rc = main(["reproduce", "--only", "later"])
    assert rc == 1 and "missing" in capsys.readouterr().out
