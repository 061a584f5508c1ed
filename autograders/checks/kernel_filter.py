"""What a check's `ref` may hold: a unit's kernel.py without the definitions a student must not reach.

`defined_names(code)`: the top-level names a cell defines; `without_names(code, names)`: the module without
the top-level statements defining any of `names` (functions, classes, assignments, imports of that name);
`inline_common(code)`: kernel.py with `kernel_common`'s text in place of its import, as the kernel receives it.
"""
from __future__ import annotations

import ast


def _targets(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return set()


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def defined_names(code: str) -> set[str]:
    "The names the top level of `code` defines (an unparsable cell defines none)."
    tree = _parse(code)
    return set().union(*(_targets(n) for n in tree.body)) if tree else set()


def without_names(code: str, names: set[str]) -> str:
    "`code` without its top-level statements that define any of `names`."
    tree = _parse(code)
    if tree is None or not names:
        return code
    tree.body = [n for n in tree.body if not (_targets(n) & names and not isinstance(n, (ast.Import, ast.ImportFrom)))]
    return ast.unparse(tree)


COMMON = "autograders.checks.kernel_common"


def _common_text() -> str:
    from pathlib import Path
    return Path(__file__).with_name("kernel_common.py").read_text()


def common_names() -> set[str]:
    "The names `kernel_common` defines (never withheld from `ref`: they answer nothing)."
    return defined_names(_common_text())


def inline_modules(code: str, modules: dict[str, str]) -> str:
    """`code` with each top-level `from <module> import ...` of `modules` (module name -> that module's text)
    replaced by the module's text (once, at its first import; its `from __future__` lines dropped), so that
    it runs where this package cannot be imported: in a student's kernel, in a student's bundle."""
    tree = _parse(code)
    spans = [(n.lineno, n.end_lineno, n.module) for n in (tree.body if tree else ())
             if isinstance(n, ast.ImportFrom) and n.module in modules]
    if not spans:
        return code
    first = {}
    for start, end, module in spans:
        first.setdefault(module, (start, end))
    lines = code.splitlines()
    for start, end, module in reversed(spans):
        text = "\n".join(l for l in modules[module].splitlines() if not l.startswith("from __future__ import"))
        lines[start - 1:end] = [text if first[module] == (start, end) else ""]
    return "\n".join(lines) + "\n"


def inline_common(code: str) -> str:
    """`code` (a unit's kernel.py) with its `from autograders.checks.kernel_common import ...` lines replaced by
    that module's text, so that it runs in a kernel where this package cannot be imported."""
    return inline_modules(code, {COMMON: _common_text()})
