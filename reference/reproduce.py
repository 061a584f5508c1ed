"""`ch4grade reproduce`: run the chapter (and its Further Research) and set each figure beside the book's.

Each section is a module with `reproduce_rows(device, quick) -> list[dict]` (keys in `reference.rows.KEYS`).
Sections load lazily, so a module another engineer has not written yet is reported as missing, not fatal.
Exit code 0 when every row that ran passed, 1 otherwise (a section that raises counts as a failed row).
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import platform
import sys
import time

from .rows import check_row, row

# section name (what --skip / --only take) -> module
SECTIONS = {
    "pixel_similarity": "reference.pixel_similarity",
    "sgd": "reference.sgd",
    "linear": "reference.linear",
    "simple_net": "reference.simple_net",
    "resnet": "reference.resnet",
    "learner": "reference.learner",
    "full_mnist": "reference.full_mnist",
}
QUICK_SKIPS = ("resnet",)  # one epoch is already the book's shortest run; --quick leaves it out
COLUMNS = ("section", "result", "measured", "book", "pass", "seconds", "device")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH ('-': stdout, table to stderr)")
    parser.add_argument("--skip", default="", metavar="A,B", help=f"sections to leave out, of: {', '.join(SECTIONS)}")
    parser.add_argument("--only", default="", metavar="A,B", help="run only these sections")
    parser.add_argument("--quick", action="store_true",
                        help=f"shorter runs where a section offers them (bands measured for them); skips {', '.join(QUICK_SKIPS)}")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when present, else CPU)")
    parser.add_argument("--seed", type=int, default=42, help="seed for the training runs (default 42, the book's figures)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise SystemExit(f"ch4grade reproduce: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return names


def plan(skip: str = "", only: str = "", quick: bool = False) -> tuple[list[str], dict[str, str]]:
    "(sections to run, {skipped section: why}) for the command-line choices."
    only_names, skip_names = _names(only), _names(skip)
    run, skipped = [], {}
    for name in SECTIONS:
        if only_names and name not in only_names:
            continue
        if name in skip_names:
            skipped[name] = "--skip"
        elif quick and name in QUICK_SKIPS and name not in only_names:
            skipped[name] = "--quick"
        else:
            run.append(name)
    return run, skipped


def section_rows(name: str, device, quick: bool, seed: int) -> list[dict]:
    "Import section `name` and return its rows; a missing module or an exception becomes one failed row."
    module_name = SECTIONS[name]
    start = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        return [row(name, "module not written yet", "missing", "a reproduce_rows()", False)]
    fn = module.reproduce_rows
    kwargs = {"seed": seed} if "seed" in inspect.signature(fn).parameters else {}
    try:
        return [check_row(r) for r in fn(device, quick, **kwargs)]
    except Exception as e:  # noqa: BLE001  (reported as a failed row, the other sections still run)
        return [row(name, "raised", f"{type(e).__name__}: {e}", "no error", False, time.perf_counter() - start)]


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.6g}"
    return str(value)


def format_table(rows: list[dict]) -> str:
    "The rows as a plain-text table with the columns in `COLUMNS`."
    cells = [COLUMNS] + [(r["section"], r["name"], _show(r["value"]), r["expected"], "pass" if r["passed"] else "FAIL",
                          f"{r['seconds']:.1f}", r.get("device", "")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells_row, widths)).rstrip() for cells_row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def reproduce(sections: list[str], device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    "Every row of `sections`, each with the device it ran on."
    from .device import default_device, describe_device
    device = default_device(device)
    where = describe_device(device)
    rows = []
    for name in sections:
        rows += [{**r, "device": r.get("device", where)} for r in section_rows(name, device, quick, seed)]
    return rows


def run(args: argparse.Namespace) -> int:
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    sections, skipped = plan(args.skip, args.only, args.quick)
    start = time.perf_counter()
    rows = reproduce(sections, args.device, args.quick, args.seed)
    passed = all(r["passed"] for r in rows)
    table_out = sys.stderr if args.json == "-" else sys.stdout
    print(format_table(rows), file=table_out)
    if skipped:
        print("skipped: " + ", ".join(f"{k} ({v})" for k, v in skipped.items()), file=table_out)
    n_failed = sum(not r["passed"] for r in rows)
    print(f"{len(rows) - n_failed}/{len(rows)} rows pass in {time.perf_counter() - start:.1f} s", file=table_out)
    if args.json:
        import fastai
        report = {"passed": passed, "rows": rows, "skipped": skipped, "quick": args.quick, "seed": args.seed,
                  "seconds": round(time.perf_counter() - start, 3),
                  "environment": {"python": platform.python_version(), "torch": torch.__version__,
                                  "fastai": fastai.__version__, "threads": torch.get_num_threads()}}
        text = json.dumps(report, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")
    return 0 if passed else 1
