"""ch4check: check your answers before you submit.

    from ch4check import check
    check("q09")

For each public check of item `q09` this prints a ✓ (passed) or a ✗ with what was expected and what your code
gave. It runs the same probes the grader runs, on the same public inputs, in your own notebook, and compares
what comes back with what the model answer gave at release time. Where that value would be the answer itself,
only a salted hash or a few random projections of it are here: you are told whether you got it, never what it is.
The grader runs more checks (some hidden) when your notebook is graded.

This file needs only the Python standard library, NumPy and torch (what a student of the book already has).
It is written by `ch4grade release` from `autograders/student/runtime.py` with the modules it imports inlined.
"""
from __future__ import annotations

import ast
import contextlib
import gzip
import hashlib
import io
import json
import os
import sys
import warnings
from pathlib import Path

from autograders.checks.kernel_common import seeded
from autograders.checks.kernel_filter import defined_names
from autograders.execute.codec import CodecError, Opaque, _decode, encode
from autograders.execute.scope import run_block

DATA_NAME = "ch4check_data.json.gz"
RTOL, ATOL = 1e-4, 1e-5       # what "the same number" means here (float32 against float64, another formula)
STUDENT_NS = "__ch4check_student__"


class CheckCellFailed(AssertionError):
    "A check cell that did not pass: shown by Jupyter as one red line, without a traceback into this module."

    def _render_traceback_(self):   # IPython shows these lines instead of a traceback
        return [f"\x1b[0;31m{self}\x1b[0m"]


# ---- the plan written at release ---------------------------------------------------------------------
_PLAN: dict | None = None


def load_plan(path: str | os.PathLike | None = None) -> dict:
    "The checks of this folder's assignment (ch4check_data.json.gz next to this file, unless `path`)."
    global _PLAN
    if path is not None:
        return json.loads(gzip.decompress(Path(path).read_bytes()))
    if _PLAN is None:
        here = Path(globals().get("__file__") or ".").resolve().parent
        for folder in (here, Path.cwd()):
            if (folder / DATA_NAME).exists():
                _PLAN = json.loads(gzip.decompress((folder / DATA_NAME).read_bytes()))
                break
        else:
            raise FileNotFoundError(f"{DATA_NAME} is missing: keep it in the folder beside ch4check.py and your "
                                    "notebook (on Colab, upload both files)")
    return _PLAN


# ---- where the student's answer is ----------------------------------------------------------------------
def _notebook_json(user_ns: dict) -> dict | None:
    "The notebook the kernel runs for, as saved (Colab: as shown), or None when it cannot be found."
    try:
        from google.colab import _message   # type: ignore[import-not-found]
        reply = _message.blocking_request("get_ipynb", timeout_sec=10)
        if isinstance(reply, dict) and isinstance(reply.get("ipynb"), dict):
            return reply["ipynb"]
    except Exception:  # noqa: BLE001  (not on Colab)
        pass
    for where in (user_ns.get("__session__"), user_ns.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(where, str) and where.endswith(".ipynb") and Path(where).is_file():
            try:
                return json.loads(Path(where).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
    return None


def _cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def answer_source(item_id: str, names: list[str], user_ns: dict, notebook: dict | None = None) -> str | None:
    """The source of item `item_id`'s answer cell: the cell whose nbgrader grade_id is `item_id` in the notebook
    (when the kernel can read it), unless the last cell run that defines one of the item's `names` differs from
    it (the notebook was not saved since): then that cell, which made the names the checks see. None when
    neither is found. Never merely "the last cell run": running another item's cell changes nothing here."""
    history = user_ns.get("In") if isinstance(user_ns.get("In"), list) else []
    wanted = set(names)
    latest = next((text for text in reversed(history)
                   if isinstance(text, str) and wanted & defined_names(_ipython_to_python(text))), None)
    notebook = notebook if notebook is not None else _notebook_json(user_ns)
    for cell in (notebook or {}).get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if isinstance(meta, dict) and meta.get("grade_id") == item_id and cell.get("cell_type") == "code":
            text = _cell_text(cell)
            if latest is None or text.strip() == latest.strip():
                return text
    return latest


def _ipython_to_python(text: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(text)
    except Exception:  # noqa: BLE001
        return text


def _same_code(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(_ipython_to_python(a))) == ast.dump(ast.parse(_ipython_to_python(b)))
    except SyntaxError:
        return a.strip() == b.strip()


# ---- replaying a probe ------------------------------------------------------------------------------------
class Mismatch(Exception):
    "What came back differs from what was expected: `message` says how (never the answer itself)."

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def u8_images(packed: dict):
    "Pixels the release stored as compressed bytes 0-255, as the float32 tensor k/255 they stand for."
    import base64
    import zlib

    import torch
    raw = zlib.decompress(base64.b64decode(packed["data"]))
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(packed["shape"]).to(torch.float32) / 255


def _resolve(node, user_ns: dict, sources: dict):
    "An input as the grader sent it, with the student's own answers and cells put where the plan says."
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag == "__u8__":
            return u8_images(body)
        if tag == "__answer__":
            if body not in user_ns:
                raise Mismatch(f"`{body}` is not defined: did its cell run without an error?")
            return user_ns[body]
        if tag == "__source__":
            if sources.get(body) is None:
                raise Mismatch(f"the answer cell of `{body}` was not found: run it, then this check")
            return sources[body]
        if tag in ("__list__", "__tuple__"):
            items = [_resolve(x, user_ns, sources) for x in body]
            return items if tag == "__list__" else tuple(items)
        if tag == "__dict__":
            return {_resolve(k, user_ns, sources): _resolve(v, user_ns, sources) for k, v in body}
    return _decode(node, 0)


def _short(value) -> str:
    "A value in a few words: what a tensor is (not all of it), a short repr of anything else."
    import torch
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            return f"tensor({value.tolist()})"
        return f"a tensor of shape {tuple(value.shape)} ({str(value.dtype).replace('torch.', '')})"
    if isinstance(value, Opaque):
        return f"a {value.type_name.split('.')[-1]}"
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return repr(value)[:80] if len(repr(value)) <= 80 else f"a {kind} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _hash(salt: str, text: str) -> str:
    return hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:24]


def _number(value):
    "A Python number for a number or a one-element tensor, else None."
    import torch
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        return float(value.double().item())
    return None


def _float_dtype(text) -> bool:
    return isinstance(text, str) and text in ("torch.float16", "torch.float32", "torch.float64", "torch.bfloat16")


def _compare_secret(spec: dict, got, salt: str, where: str) -> None:
    import torch
    hidden = "(the expected value is the answer, so it is not shown)"
    if spec["kind"] == "num":
        v = _number(got)
        if v is None:
            raise Mismatch(f"{where}expected a number, got {_short(got)}")
        q = round(v / spec["step"])
        if not any(_hash(salt, str(q + d)) == spec["h"] for d in (-1, 0, 1)):
            raise Mismatch(f"{where}{v:.6g} is not the expected value {hidden}")
        return
    if not isinstance(got, torch.Tensor):
        raise Mismatch(f"{where}expected a tensor of shape {tuple(spec['shape'])}, got {_short(got)}")
    if list(got.shape) != list(spec["shape"]):
        raise Mismatch(f"{where}expected shape {tuple(spec['shape'])}, got shape {tuple(got.shape)}")
    if spec["kind"] == "exact":
        if got.is_floating_point() or _hash(salt, got.to(torch.int64).numpy().tobytes().hex()) != spec["h"]:
            raise Mismatch(f"{where}not the expected values {hidden}")
        return
    x = got.detach().double().reshape(-1)
    for p in spec["proj"]:
        w = torch.randn(x.numel(), generator=torch.Generator().manual_seed(p["seed"]), dtype=torch.float64)
        if abs(float((w * x).sum()) - p["value"]) > RTOL * p["scale"] + ATOL:
            raise Mismatch(f"{where}not the expected values {hidden}")


def compare(want, got, salt: str = "", where: str = "", atol: float = ATOL) -> None:
    """Raise Mismatch when `got` (a value the student's code gave, as the codec reads it back) is not `want`
    (the model answer's, in the plan's sealed form) within RTOL/ATOL; lists and tuples are alike, and so are the
    float dtypes' names (the float width is not judged here). `atol`: a wider absolute tolerance, for a value that
    came out of training and differs a little from machine to machine (`__close__` in the plan)."""
    import torch
    if isinstance(want, dict) and len(want) == 1:
        (tag, body), = want.items()
        if tag == "__any__":   # a part that depends on the random numbers a notebook draws: not compared
            return
        if tag == "__close__":  # a trained value: as close as two runs on different threads were, with room
            return compare(body["want"], got, salt, where, max(atol, float(body["atol"])))
        if tag == "__secret__":
            return _compare_secret(body, got, salt, where)
        if tag in ("__list__", "__tuple__"):
            if not isinstance(got, (list, tuple)) or len(got) != len(body):
                raise Mismatch(f"{where}expected {len(body)} values, got {_short(got)}")
            for i, (w, g) in enumerate(zip(body, got)):
                compare(w, g, salt, f"{where}item {i}: " if not where else f"{where[:-2]}, item {i}: ", atol)
            return
        if tag == "__dict__":
            if not isinstance(got, dict):
                raise Mismatch(f"{where}expected a dict, got {_short(got)}")
            for k, w in body:
                key = _decode(k, 0)
                if key not in got:
                    raise Mismatch(f"{where}no {key!r} in what came back")
                compare(w, got[key], salt, f"{where}{key!r}: ", atol)
            return
        if tag == "__opaque__":
            if not isinstance(got, Opaque) or got.type_name != body[0]:
                raise Mismatch(f"{where}expected a {body[0].split('.')[-1]}, got {_short(got)}")
            return
        want = _decode(want, 0)
    if isinstance(want, torch.Tensor):
        n = _number(got)
        if want.numel() == 1 and n is not None and (not isinstance(got, torch.Tensor) or got.numel() == 1):
            got = torch.tensor([n], dtype=torch.float64)
            want = want.reshape(1)
        if not isinstance(got, torch.Tensor):
            raise Mismatch(f"{where}expected a tensor of shape {tuple(want.shape)}, got {_short(got)}")
        if got.shape != want.shape:
            raise Mismatch(f"{where}expected shape {tuple(want.shape)}, got shape {tuple(got.shape)}")
        if want.dtype == torch.bool or got.dtype == torch.bool:
            bad = got.bool() != want.bool() if got.dtype == want.dtype or not got.is_floating_point() else None
            if bad is None or bad.any():
                n_bad = int(bad.sum()) if bad is not None else want.numel()
                raise Mismatch(f"{where}{n_bad} of {want.numel()} values differ from the expected booleans")
            return
        g, w = got.double(), want.double()
        close = torch.isclose(g, w, rtol=RTOL, atol=max(ATOL, atol), equal_nan=True)
        if not bool(close.all()) and w.numel() == 1:
            raise Mismatch(f"{where}expected {w.item():.6g}, got {g.item():.6g}")
        if not bool(close.all()):
            idx = int((~close).reshape(-1).nonzero()[0])
            pos = tuple(int(i) for i in torch.unravel_index(torch.tensor(idx), w.shape)) if w.dim() else ()
            raise Mismatch(f"{where}{int((~close).sum())} of {w.numel()} values differ; at {list(pos)} expected "
                           f"{w.reshape(-1)[idx].item():.6g}, got {g.reshape(-1)[idx].item():.6g}")
        return
    if isinstance(want, float) or isinstance(want, int) and not isinstance(want, bool) and isinstance(got, float):
        n = _number(got)
        if n is None:
            raise Mismatch(f"{where}expected a number, got {_short(got)}")
        if not (abs(n - want) <= max(ATOL, atol) + RTOL * abs(want) or (n != n and want != want)):
            raise Mismatch(f"{where}expected {want:.6g}, got {n:.6g}")
        return
    if _float_dtype(want) and _float_dtype(got):
        return
    if type(want) is not type(got) and not (isinstance(want, int) and isinstance(got, int)
                                            and not isinstance(got, bool)):
        raise Mismatch(f"{where}expected {_short(want)}, got {_short(got)}")
    if want != got:
        raise Mismatch(f"{where}expected {_short(want)}, got {_short(got)}")


def _ref_source(plan: dict) -> str:
    "The kernel-side helpers a check's probes use as `ref`, with the student's own answers in place of the model's."
    names = plan.get("ref_names", [])
    head = ("import sys as _ch4_sys\n_ch4_ns = _ch4_sys.modules[%r].ns\n"
            "globals().update({_k: _ch4_ns[_k] for _k in %r if _k in _ch4_ns})\ndel _ch4_sys, _ch4_ns\n"
            % (STUDENT_NS, names))
    return head + plan.get("ref", "")


def replay(check: dict, user_ns: dict, sources: dict, plan: dict) -> None:
    "Run one check's probes against `user_ns`; raise Mismatch at the first answer that is not the expected one."
    import types
    sys.modules[STUDENT_NS] = types.SimpleNamespace(ns=user_ns)
    try:
        for step in check["steps"]:
            if step["op"] == "has":
                if (step["name"] in user_ns) != step["want"]:
                    raise Mismatch(f"`{step['name']}` is not defined: did its cell run without an error?")
                continue
            inputs = {k: _resolve(v, user_ns, sources) for k, v in step["inputs"].items()}
            what = step.get("what") or ""
            try:   # what the probe and the student's code print or warn is not the check's to show
                with seeded(step["seed"]), warnings.catch_warnings(), \
                        contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    warnings.simplefilter("ignore")
                    value = run_block(user_ns, step["body"], inputs, None, _ref_source(plan) if step.get("ref") else None)
            except Mismatch:
                raise
            except Exception as e:  # noqa: BLE001  (the student's code raised: say what, not where in here)
                raise Mismatch(f"{what or 'your code '}raised {type(e).__name__}: {str(e)[:300]}") from None
            try:
                got = _decode(json.loads(encode(value)), 0)
            except (CodecError, ValueError, TypeError) as e:
                raise Mismatch(f"{what}gave a value that cannot be read ({e})") from None
            compare(step["want"], got, plan.get("salt", ""), what.replace("` ", "`: ") if what else "")
    finally:
        sys.modules.pop(STUDENT_NS, None)


# ---- check(item) ------------------------------------------------------------------------------------------
def ipython_ns() -> dict | None:
    "The globals of the notebook this runs in (IPython's user namespace), or None outside IPython."
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    ip = get_ipython()
    return ip.user_ns if ip is not None else None


def _user_ns() -> dict:
    ns = ipython_ns()
    if ns is not None:
        return ns
    import __main__
    return vars(__main__)


def check(item_id: str, user_ns: dict | None = None, plan: dict | None = None, quiet: bool = False) -> None:
    """Check item `item_id` of this assignment in your notebook: one ✓ / ✗ line per public check. Returns
    nothing when every check passed; otherwise raises CheckCellFailed (the cell shows red), after printing why."""
    plan = plan if plan is not None else load_plan()
    items = plan["items"]
    if item_id not in items:
        raise CheckCellFailed(f"there is no item {item_id!r} in {plan['assignment']} (items: {', '.join(items)})")
    item = items[item_id]
    user_ns = user_ns if user_ns is not None else _user_ns()
    source = answer_source(item_id, item["names"], user_ns)
    lines, failed = [], 0
    blank = source is None and not any(n in user_ns for n in item["names"]) or (
        source is not None and item.get("placeholder") is not None and _same_code(source, item["placeholder"]))
    if blank:
        lines.append(f"  ✗ not answered yet: write your answer in the cell of `{item_id}` and run it, then this cell")
        failed = len(item["checks"])
    else:
        sources = {item_id: source}
        for c in item["checks"]:
            if c["mode"] != "replay":
                lines.append(f"  · {c['name']}: checked when your notebook is graded ({c['why']})")
                continue
            try:
                replay(c, user_ns, sources, plan)
                lines.append(f"  ✓ {c['name']}" + (f" ({c['rest']})" if c.get("rest") else ""))
            except Mismatch as e:
                failed += 1
                uses = f"\n      (this check uses your earlier answers: {', '.join(c['given'])})" if c.get("given") else ""
                lines.append(f"  ✗ {c['name']}\n      {e.message}{uses}")
    if not quiet:
        print(f"{item_id}:\n" + "\n".join(lines))
    if failed:
        raise CheckCellFailed(f"{item_id}: {failed} check(s) did not pass (see above)")
