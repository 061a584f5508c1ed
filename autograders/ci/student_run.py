"""ch4check in CI: run a student's notebook and its public checks on every push, and report.

    python .ch4check/run.py NOTEBOOK [--json PATH] [--junit PATH] [--summary PATH] [--annotations]

Shipped into each student's repository by `ch4grade ci init` (as `.ch4check/run.py`) beside the released
notebook and its `ch4check.py`; it needs only the standard library, nbformat and nbclient (plus the kernel
the notebook runs in). Every cell runs (errors kept); then each check cell (nbgrader `grade_id`
`<item>_check`) is read: it passed when it raised nothing, failed when its check raised (its ✓ / ✗ lines
say why). Reports: a Markdown table with a ✓ / ✗ per item and the public score (the job summary), one
annotation per failing item (`--annotations`, GitHub's `::error` lines), JSON, and JUnit XML (GitLab's
test report).

Exit codes: 0 every public check passed; 1 a check failed or an answer is missing (the student's to fix);
0 with a warning when the run failed for a reason the student did not cause (the kernel would not start,
a locked set-up cell such as the data download failed, ch4check's files are missing): the job stays green
and says so. The grader runs more checks (some hidden) on the instructor's side; this is the public part.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

CHECK_SUFFIX = "_check"
CELL_TIMEOUT = 600
PASSED, FAILED, INFRA = "passed", "failed", "infrastructure"


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _text(outputs) -> str:
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}")
        else:
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def _error(cell):
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def execute(path: Path, timeout: int = CELL_TIMEOUT):
    """The notebook run in its own folder, every cell (errors kept in the outputs). Returns (notebook,
    problem): problem is a reason the run could not happen at all (the student's doing or not: the caller
    decides), None when it ran."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    try:
        client.execute()
    except DeadKernelError as e:
        return nb, f"the kernel died while running the notebook ({e}); out of memory?"
    except RuntimeError as e:   # nbclient: the kernel did not start
        return nb, f"infrastructure: the kernel could not start ({e})"
    return nb, None


def items_of(nb) -> list[dict]:
    """One record per check cell: item, points, status, lines (its ✓ / ✗ / · output), and whether the run
    failed before the check for a reason that is not the student's (a locked set-up cell raised)."""
    records, setup_error = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta, err = _nbgrader(cell), _error(cell)
        grade_id = str(meta.get("grade_id", ""))
        if meta.get("grade") and grade_id.endswith(CHECK_SUFFIX):
            text = _text(cell.get("outputs", []))
            if setup_error and err is not None:
                status, why = INFRA, setup_error
            elif err is None:
                status, why = PASSED, ""
            else:
                status = FAILED
                why = next((ln.strip() for ln in text.splitlines() if ln.strip().startswith("✗")), "") or \
                    f"{err.get('ename')}: {err.get('evalue')}"
            records.append({"item": grade_id[: -len(CHECK_SUFFIX)], "points": float(meta.get("points") or 0),
                            "status": status, "why": why, "output": text.strip(), "cell": index})
        elif err is not None and meta.get("locked") and not meta.get("solution") and setup_error is None:
            setup_error = f"infrastructure: set-up cell {grade_id or index} raised {err.get('ename')}: {err.get('evalue')}"
    return records


def _cell_md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(notebook: str, records: list[dict], problem: str | None) -> str:
    lines = [f"## ch4check: {notebook}", ""]
    if problem:
        lines += [f"> **Could not check the notebook:** {_cell_md(problem)}", ""]
    if records:
        earned = sum(r["points"] for r in records if r["status"] == PASSED)
        total = sum(r["points"] for r in records)
        lines += [f"**Public checks: {sum(r['status'] == PASSED for r in records)}/{len(records)} items, "
                  f"{earned:g}/{total:g} points.**", "",
                  "| item | points | public checks | why |", "|---|---|---|---|"]
        marks = {PASSED: "✓", FAILED: "✗", INFRA: "⚠ not checked"}
        for r in records:
            lines.append(f"| {r['item']} | {r['points']:g} | {marks[r['status']]} | {_cell_md(r['why'][:200])} |")
    lines += ["", "Hidden checks and written answers are graded later by your instructor: a ✓ here is "
              "necessary, not sufficient."]
    return "\n".join(lines) + "\n"


def junit(notebook: str, records: list[dict], problem: str | None, seconds: float) -> str:
    suite = ET.Element("testsuite", name=f"ch4check:{notebook}", tests=str(len(records) or 1),
                       failures=str(sum(r["status"] == FAILED for r in records)), errors="0",
                       skipped=str(sum(r["status"] == INFRA for r in records) + (not records)),
                       time=f"{seconds:.3f}", timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"), file=notebook)
    for r in records:
        case = ET.SubElement(suite, "testcase", classname=Path(notebook).stem, name=r["item"], file=notebook)
        if r["status"] == FAILED:
            ET.SubElement(case, "failure", message=r["why"][:300]).text = r["output"]
        elif r["status"] == INFRA:
            ET.SubElement(case, "skipped", message=r["why"][:300])
    if not records:
        ET.SubElement(ET.SubElement(suite, "testcase", classname=Path(notebook).stem, name="notebook"),
                      "skipped", message=problem or "no check cells found")
    root = ET.Element("testsuites", name="ch4check")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _escape_annotation(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def exit_code(records: list[dict], problem: str | None) -> int:
    "1 when the student has something to fix; 0 when all passed or the run failed for another reason."
    if any(r["status"] == FAILED for r in records):
        return 1
    if problem and not problem.startswith("infrastructure"):
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ch4check-ci", description="run a notebook's public checks and report")
    p.add_argument("notebook", type=Path)
    p.add_argument("--json", type=Path, help="write the per-item results here")
    p.add_argument("--junit", type=Path, help="write JUnit XML here (GitLab's test report)")
    p.add_argument("--summary", type=Path, default=os.environ.get("GITHUB_STEP_SUMMARY"),
                   help="append the Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    p.add_argument("--annotations", action="store_true", help="print GitHub annotations (::error) per failing item")
    p.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    name = args.notebook.name
    if not args.notebook.exists():
        problem, records = f"there is no notebook {args.notebook}: was it renamed or moved?", []
    elif not (args.notebook.parent / "ch4check.py").exists():
        problem, records = "infrastructure: ch4check.py is missing beside the notebook", []
    else:
        try:
            nb, problem = execute(args.notebook, args.cell_timeout)
            records = items_of(nb)
        except Exception as e:   # a notebook nbformat cannot read is the student's; anything else is ours
            from nbformat.reader import NotJSONError
            kind = "" if isinstance(e, (NotJSONError, ValueError)) else "infrastructure: "
            problem, records = f"{kind}{type(e).__name__}: {e}", []
    text = summary(name, records, problem)
    print(text)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as f:
            f.write(text)
    if args.json:
        args.json.write_text(json.dumps({"notebook": name, "problem": problem, "items": records}, indent=1))
    if args.junit:
        args.junit.write_text(junit(name, records, problem, time.monotonic() - t0))
    code = exit_code(records, problem)
    if args.annotations:
        for r in records:
            if r["status"] == FAILED:
                print(f"::error file={args.notebook},title=ch4check {r['item']}::{_escape_annotation(r['why'])}")
        if problem:
            level = "warning" if code == 0 else "error"
            print(f"::{level} file={args.notebook},title=ch4check::{_escape_annotation(problem)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
