"""What of a recording a student may receive: the plan `ch4check` replays (grader side).

Each public check becomes either
  - `replay`: its probes, with their inputs and the model answer's results. A value the model notebook holds
    in an answer name (e.g. q09's tensor, an accuracy) is an answer: as an expected result it is kept only as a
    salted hash (a number) or as three random projections (a tensor); as an input it is replaced by a reference
    to the student's own name. An answer cell a probe runs again is the student's own cell, found at check time;
    A check that also reads the answer's code (beyond running it again) is replayed for what its probes show,
    and says that the rest is checked when graded;
  - `graded`: checked only when the notebook is graded, when replaying cannot give the grader's verdict: the
    check only reads the code or looks at a plot, an expected result is an answer written in words, or its
    probes need a kernel helper that carries a model answer.
"""
from __future__ import annotations

import json
import math
import re
import secrets
from typing import Any

import torch

from ..checks.kernel_filter import common_names, without_names
from ..checks.spec import Assignment
from ..execute import codec
from .forbidden import found_in
from .record import Recording
from .runtime import Mismatch, _hash, _number, compare

PROJECTIONS = 3


def _leaves(value, out: list) -> list:
    "The tensors, floats and strings inside an answer's value (lists and tuples opened)."
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, float) or isinstance(value, str):
        out.append(value)
    elif isinstance(value, (list, tuple)) and len(value) <= 10_000:
        for v in value:
            _leaves(v, out)
    return out


def _trivial(x: float) -> bool:
    "0, 1, 2, 0.5, -1, ... : values too common to be anyone's answer."
    return not math.isfinite(x) or abs(x) < 1e-12 or (x == round(x) and abs(x) <= 10) or x in (0.5, -0.5)


class Answers:
    "The model notebook's answer values, and the test whether a value is one of them."

    def __init__(self, answers: dict[str, Any]):
        self.named: list[tuple[str, Any]] = []
        for name, value in answers.items():
            for leaf in _leaves(value, []):
                if isinstance(leaf, torch.Tensor) and (leaf.numel() < 2 and _trivial(float(leaf.double().sum()))
                                                       or leaf.numel() == 0 or bool((leaf == leaf.reshape(-1)[0]).all())):
                    continue   # an empty, constant or trivial tensor is nobody's secret
                if isinstance(leaf, float) and _trivial(leaf) or isinstance(leaf, str) and len(leaf) < 4:
                    continue
                self.named.append((name, leaf))

    def which(self, value) -> str | None:
        "The answer name whose value `value` is (a tensor, number or string), or None."
        n = _number(value) if not isinstance(value, torch.Tensor) or value.numel() == 1 else None
        for name, leaf in self.named:
            if isinstance(leaf, str):
                if isinstance(value, str) and value == leaf:
                    return name
            elif isinstance(leaf, torch.Tensor) and leaf.numel() > 1:
                if isinstance(value, torch.Tensor) and value.shape == leaf.shape and value.dtype != torch.bool \
                        and torch.allclose(value.double(), leaf.double(), rtol=1e-5, atol=1e-7):
                    return name
            else:
                x = float(leaf) if not isinstance(leaf, torch.Tensor) else float(leaf.double().item())
                if n is not None and not _trivial(n) and abs(n - x) <= 1e-6 * max(1.0, abs(x)):
                    return name
        return None


class NotReplayable(Exception):
    "This check's verdict cannot be given by replaying it (the reason is shown to the student)."


def _secret(value, salt: str) -> dict:
    "How an expected answer is kept: a salted hash of a number, projections or a hash of a tensor."
    n = _number(value)
    if n is not None and (not isinstance(value, torch.Tensor) or value.numel() == 1):
        step = 10.0 ** (math.floor(math.log10(abs(n))) - 3) if n else 1e-6
        return {"__secret__": {"kind": "num", "step": step, "h": _hash(salt, str(round(n / step)))}}
    if isinstance(value, torch.Tensor):
        shape = list(value.shape)
        if not value.is_floating_point():
            return {"__secret__": {"kind": "exact", "shape": shape,
                                   "h": _hash(salt, value.to(torch.int64).numpy().tobytes().hex())}}
        x = value.detach().double().reshape(-1)
        proj = []
        for _ in range(PROJECTIONS if x.numel() > PROJECTIONS else 1):
            seed = secrets.randbits(31)
            w = torch.randn(x.numel(), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            proj.append({"seed": seed, "value": float((w * x).sum()), "scale": float((w.abs() * x.abs()).sum())})
        return {"__secret__": {"kind": "proj", "shape": shape, "proj": proj}}
    raise NotReplayable("its expected result is an answer written in words")


def _tensor(node) -> torch.Tensor:
    "An encoded tensor or NumPy array, as a tensor."
    value = codec._decode(node, 0)
    return value if isinstance(value, torch.Tensor) else torch.from_numpy(value)


def _seal_tree(node, answers: Answers, salt: str):
    "An encoded (codec JSON) result, with every leaf that is an answer replaced by its sealed form."
    if node == ANY:
        return node
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag == "__close__":
            inner = _seal_tree(body["want"], answers, salt)
            return inner if isinstance(inner, dict) and "__secret__" in inner else {tag: {**body, "want": inner}}
        if tag in ("__list__", "__tuple__"):
            return {tag: [_seal_tree(x, answers, salt) for x in body]}
        if tag == "__dict__":
            return {tag: [[k, _seal_tree(v, answers, salt)] for k, v in body]}
        if tag in ("__tensor__", "__ndarray__"):
            value = _tensor(node)
            return _secret(value, salt) if answers.which(value) else node
        return node
    if isinstance(node, (float, str)) and answers.which(node):
        return _secret(node, salt)
    return node


def _seal_inputs(node, answers: Answers, sources: dict[str, str], used: set):
    """An encoded input, with the model's answer values and answer cells replaced by references to the student's
    (the items whose cells were found are added to `used`)."""
    if isinstance(node, str):
        for item, text in sources.items():
            if text and node == text:
                used.add(item)
                return {"__source__": item}
        name = answers.which(node)
        return {"__answer__": name} if name else node
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag in ("__list__", "__tuple__"):
            return {tag: [_seal_inputs(x, answers, sources, used) for x in body]}
        if tag == "__dict__":
            return {tag: [[k, _seal_inputs(v, answers, sources, used)] for k, v in body]}
        if tag in ("__tensor__", "__ndarray__"):
            value = _tensor(node)
            name = answers.which(value)
            return {"__answer__": name} if name else _as_u8(value) or node
    elif isinstance(node, float):
        name = answers.which(node)
        return {"__answer__": name} if name else node
    return node


ANY = {"__any__": None}


def _mask(node, other):
    """The encoded result `node` with each part that differs in `other` (the same probe's result when the notebook
    drew other random numbers) replaced by ANY: a part the student's check does not compare."""
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag in ("__list__", "__tuple__"):
            if not isinstance(other, (list, tuple)) or len(other) != len(body):
                return ANY
            return {tag: [_mask(x, y) for x, y in zip(body, other)]}
        if tag == "__dict__":
            if not isinstance(other, dict):
                return ANY
            out = []
            for k, v in body:
                key = codec._decode(k, 0)
                out.append([k, _mask(v, other[key]) if key in other else ANY])
            return {tag: out}
    try:
        compare(node, other)
    except Mismatch:
        return _near(node, other)
    return node


WIDEN, NEAR = 50.0, 0.2


def _near(node, other):
    """A number or float tensor that differs between the two runs: compared within WIDEN times the difference seen
    when that difference is small (under NEAR of the value: training summing in another order), else not at all
    (a freshly initialised layer's weights)."""
    try:
        a = codec._decode(node, 0)
    except codec.CodecError:
        return ANY
    a = torch.as_tensor(a) if isinstance(a, (float, int)) and not isinstance(a, bool) else a
    b = torch.as_tensor(other) if isinstance(other, (float, int)) and not isinstance(other, bool) else other
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and a.is_floating_point() and a.numel() > 0):
        return ANY
    d = float((a.double() - b.double()).abs().max())
    scale = float(a.double().abs().max())
    if not d <= NEAR * scale:
        return ANY
    return {"__close__": {"atol": WIDEN * d, "want": node}}


def _compares_something(node) -> bool:
    if node == ANY:
        return False
    if isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag in ("__list__", "__tuple__"):
            return any(_compares_something(x) for x in body)
        if tag == "__dict__":
            return any(_compares_something(v) for _, v in body)
    return True


def _as_u8(x) -> dict | None:
    """A large float32 tensor of pixels k/255 (MNIST images as the notebooks make them) as compressed bytes, when
    `runtime.u8_images` gives back exactly the same tensor; else None. (A thirtieth of the size, or less.)"""
    import base64
    import zlib

    from .runtime import u8_images
    if not isinstance(x, torch.Tensor) or x.dtype != torch.float32 or x.numel() < 4096:
        return None
    u = (x.double() * 255).round()
    if not (bool((u >= 0).all()) and bool((u <= 255).all())):
        return None
    packed = {"shape": list(x.shape), "data": base64.b64encode(zlib.compress(u.to(torch.uint8).numpy().tobytes(), 9))
              .decode("ascii")}
    return {"__u8__": packed} if torch.equal(u8_images(packed), x) else None


def _encoded(value) -> Any:
    return json.loads(codec.encode(value))


RANDOM = "its result depends on the random numbers your notebook draws"


def _steps(log, answers: Answers, salt: str, withheld: set[str] = frozenset()) -> tuple[list[dict], str]:
    """The sealed probes of one check, and what of the check they leave to the grader ('' if nothing: a check
    that also reads the answer's code, beyond running it again, is replayed for what its probes show). A part of
    a result that changed when the notebook drew other random numbers is not compared (ANY)."""
    if not log.stable:
        raise NotReplayable(RANDOM)
    if any(set(re.findall(r"\bref\.(\w+)", s.get("body", ""))) & withheld for s in log.steps):
        raise NotReplayable("it runs your code with the model answers of earlier items")
    used = set()
    steps = []
    for step in log.steps:
        if step["op"] == "has":
            steps.append(step)
            continue
        inputs = {k: _seal_inputs(_encoded(v), answers, log.sources, used) for k, v in step["inputs"].items()}
        want = _encoded(step["value"])
        if "value_b" in step:
            want = _mask(want, step["value_b"])
        steps.append({"op": "run", "body": step["body"], "inputs": inputs, "what": step["what"], "ref": step["ref"],
                      "seed": step["seed"], "want": _seal_tree(want, answers, salt)})
    if not steps or all(s["op"] == "has" for s in steps):
        raise NotReplayable("it reads your code")
    if not any(_compares_something(s["want"]) for s in steps if s["op"] == "run"):
        raise NotReplayable(RANDOM)
    return steps, ("how your code is written is checked when graded" if set(log.sources) - used else "")


def student_ref(spec: Assignment, recording: Recording, forbidden: set[str]) -> tuple[str, list[str], set[str]]:
    """The kernel-side helpers the student's probes may use as `ref`: kernel.py without any definition an answer
    cell defines (the student's own globals stand in for those: the second value lists them), and without any
    helper that carries a forbidden line (a model answer under another name, e.g. sgd's `TrainEpoch`) or uses
    one: the third value; a probe that needs one cannot be replayed."""
    import ast

    from ..checks.kernel_filter import _targets
    answered = set().union(*map(set, recording.answer_names.values()), set()) - common_names()
    source = spec.kernel_source
    if not source:
        return "", sorted(answered), set()
    tree = ast.parse(source)
    defs = {}
    for node in tree.body:
        for name in _targets(node) if not isinstance(node, (ast.Import, ast.ImportFrom)) else ():
            defs[name] = node
    # (answered names are the student's own anyway; kernel_common's helpers are the probes' plumbing, no answer)
    defs = {n: node for n, node in defs.items() if n not in answered and n not in common_names()}
    withheld = {n for n, node in defs.items()
                if found_in(ast.get_source_segment(source, node) or "", forbidden, loose=True)}
    while True:   # and whatever uses a withheld helper
        more = {n for n, node in defs.items() if n not in withheld
                and {x.id for x in ast.walk(node) if isinstance(x, ast.Name)} & withheld}
        if not more:
            break
        withheld |= more
    return without_names(source, answered | withheld), sorted(answered), withheld


def seal(spec: Assignment, recording: Recording, placeholders: dict[str, str] | None = None,
         forbidden: set[str] = frozenset()) -> dict:
    """The plan written to `ch4check_data.json.gz`: per item its names, its placeholder (the released answer
    cell, to tell an unanswered item) and its public checks, each `replay` (with sealed steps) or `graded`."""
    salt = secrets.token_hex(8)
    answers = Answers(recording.answers)
    logs = {(log.item, log.name): log for log in recording.checks}
    ref, ref_names, withheld = student_ref(spec, recording, forbidden)
    items = {}
    for item in spec.auto_items:
        checks = []
        for c in item.checks:
            if c.hidden:
                continue
            entry = {"name": c.name, "given": list(c.given) if c.given else None}
            log = logs.get((item.id, c.name))
            try:
                if log is not None and log.figures:
                    raise NotReplayable("it looks at your plot")
                if log is None or not log.steps:
                    raise NotReplayable("it sends nothing to your code")
                steps, rest = _steps(log, answers, salt, withheld)
                entry.update(mode="replay", steps=steps, rest=rest)
            except NotReplayable as e:
                entry.update(mode="graded", why=str(e))
            checks.append(entry)
        items[item.id] = {"names": recording.answer_names.get(item.id, []), "checks": checks,
                          "placeholder": (placeholders or {}).get(item.id)}
    return {"format": 1, "assignment": spec.name, "title": spec.title, "seed": recording.seed, "salt": salt,
            "ref": ref if any(s.get("ref") for i in items.values() for c in i["checks"] for s in c.get("steps", [])) else "",
            "ref_names": ref_names, "items": items}
