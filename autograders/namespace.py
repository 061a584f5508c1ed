"""The student's namespace as checks see it: the same API across the kernel boundary and in-process.

`KernelNamespace` (grading) runs probes in the isolated kernel and decodes the answers;
`LocalNamespace` (a student's self-check) works on a dict of globals in the same process.
"""
from __future__ import annotations

import time
import zlib
from typing import Any

from .checks.spec import CheckFailed
from .execute import probe
from .execute.codec import CodecError, decode
from .execute.scope import run_block
from .execute.session import KernelDied, KernelSession


class MissingName(CheckFailed):
    "A name the check needs is not defined in the student's namespace."

    def __init__(self, name: str):
        super().__init__(f"`{name}` is not defined: did its cell run without an error?")
        self.name = name


class StudentError(CheckFailed):
    "The student's code raised while the check ran it."

    def __init__(self, ename: str, evalue: str, traceback: list[str] | None = None, where: str = ""):
        text = f"{where}raised {ename}: {evalue}" if evalue else f"{where}raised {ename}"
        super().__init__(text)
        self.ename, self.evalue, self.traceback = ename, evalue, traceback or []


def check_rng_seed(check_seed: int, item: str, check: str) -> int:
    "The seed of one check's randomness: derived only from (check_seed, item, check)."
    return zlib.crc32(f"{check_seed}:{item}:{check}".encode())


class NamespaceBase:
    """What every namespace offers; subclasses implement `_run`.

    It is also the check's context (`bind` sets it before each check): `ns.item`, `ns.check`, `ns.rng` (a
    `torch.Generator`) and `ns.random` (a `random.Random`), both seeded from (check_seed, item, check) only:
    the one source of randomness a check may use, so the same seed reproduces a grading exactly."""

    def __init__(self, sources: dict[str, str] | None = None, figures: dict[str, list] | None = None):
        self._sources = sources if sources is not None else {}
        self._figures = figures if figures is not None else {}
        self.item: str | None = None
        self.check: str | None = None
        self.given: tuple[str, ...] | None = None
        self.kernel_source = ""
        self.bind_names = True
        self.bind(0, "", "")
        self.seed: int | None = None      # no check yet: probes leave the kernel's generators alone

    def bind(self, check_seed: int, item: str, check: str, given: tuple[str, ...] | None = None,
             kernel_source: str = "") -> "NamespaceBase":
        "Set the context for one check: its item (whose bound names it sees), its randomness, its `ref`."
        import random

        import torch
        n = check_rng_seed(check_seed, item, check)
        self.item, self.check, self.given, self.kernel_source = item or None, check, given, kernel_source
        self.seed = n
        self.rng = torch.Generator().manual_seed(n)
        self.random = random.Random(n)
        return self

    def _ref(self) -> str | None:
        "The kernel-side helpers' source for this check's blocks (only checks declared with `given`)."
        return self.kernel_source if self.given is not None else None

    def _run(self, body: str, inputs: dict, what: str) -> Any:
        raise NotImplementedError

    def run(self, code: str, **inputs) -> Any:
        """Run `code` beside the student's globals, `inputs` bound in its own scope (never in the student's
        globals; see `scope.run_block`, and its `set_global`); the value it gives to `result`."""
        return self._run(code, inputs, "")

    def has(self, name: str) -> bool:
        _identifier(name)
        return bool(self._run(f"result = {name!r} in globals()", {}, ""))

    def get(self, name: str) -> Any:
        _identifier(name)
        if not self.has(name):
            raise MissingName(name)
        return self._run(f"result = {name}", {}, f"`{name}` ")

    def call(self, name: str, *args, **kwargs) -> Any:
        "Call the student's `name(*args, **kwargs)` on the grader's inputs."
        _identifier(name.split(".")[0])
        if not self.has(name.split(".")[0]):
            raise MissingName(name.split(".")[0])
        return self._run(f"result = {name}(*__args, **__kwargs)", {"__args": list(args), "__kwargs": kwargs},
                         f"`{name}(...)` ")

    def source(self, item_id: str) -> str:
        "The source of the student's answer cell `item_id` ('' if there is none)."
        return self._sources.get(item_id, "")

    def figures(self, item_id: str) -> list[dict]:
        "The axes drawn by the cell `item_id`: [{'lines': [{'x', 'y', 'label'}], 'title', 'xlabel', 'ylabel'}]."
        return self._figures.get(item_id, [])


def _text(value, default: str) -> str:
    return value if isinstance(value, str) else default


def _identifier(name: str) -> None:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"not a Python name: {name!r}")


class KernelNamespace(NamespaceBase):
    "The namespace of a student's kernel after their notebook ran."

    def __init__(self, session: KernelSession, sources=None, figures=None, deadline: float | None = None):
        super().__init__(sources, figures)
        self.session = session
        self.deadline = deadline  # monotonic time by which the current check must end

    def _timeout(self) -> float:
        if self.deadline is None:
            return 120.0
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the check ran out of time")
        return left

    def _run(self, body: str, inputs: dict, what: str) -> Any:
        code, nonce = probe.probe_code(body, inputs, self.item if self.bind_names else None, self._ref(), self.seed)
        run = self.session.execute(code, timeout=self._timeout(), silent=True, nonce=nonce)
        if run.status == "died":
            raise KernelDied(run.error["evalue"] if run.error else "the kernel died")
        if run.status == "timeout":
            raise TimeoutError(f"{what or 'the check'}did not finish in time (is there an endless loop?)")
        answer = run.answer
        if not isinstance(answer, dict):
            raise StudentError("NoAnswer", "the kernel returned no value (too large to send back, or the output "
                               "was hijacked)", where=what)
        if answer.get("ok") is not True:   # whatever the kernel sent is the student's: read it defensively
            traceback = answer.get("traceback")
            traceback = [t for t in traceback if isinstance(t, str)][:6] if isinstance(traceback, list) else []
            raise StudentError(_text(answer.get("ename"), "Exception")[:100], _text(answer.get("evalue"), "")[:500],
                               traceback, where=what)
        value = answer.get("value", "null")
        try:
            if not isinstance(value, str):
                raise CodecError("not an encoded value")
            return decode(value)
        except (CodecError, ValueError, TypeError, RecursionError) as e:
            raise StudentError("BadValue", f"the value could not be read back ({e})", where=what) from None


class LocalNamespace(NamespaceBase):
    "A dict of globals in this very process (a student's self-check in their own notebook)."

    def __init__(self, user_ns: dict, sources=None, figures=None):
        super().__init__(sources, figures)
        self.user_ns = user_ns

    def _run(self, body: str, inputs: dict, what: str) -> Any:
        try:
            return run_block(self.user_ns, body, inputs, None, self._ref())
        except CheckFailed:
            raise
        except Exception as e:
            raise StudentError(type(e).__name__, str(e)[:500], where=what) from e
