"""Kernel-side helpers every assignment unit's `kernel.py` may use (torch and the standard library only).

A unit's kernel.py imports what it needs from here (`from autograders.checks.kernel_common import plain, ...`), so
it is an ordinary module that tests import; when it is sent into the student's kernel, where this package cannot
be imported, `Assignment.kernel_source` puts this module's text in place of that import line.

- `plain`: a value made safe to send back (plain, detached CPU tensors);
- `unpack`: images the grader packed (`autograders.checks.expect.pack_images`) as a uint8 tensor again;
- `run_cell`: an answer cell run again in a scope of the check's, its printing swallowed, the figures it drew read
  and closed, the global generators (and fastai DataLoaders' own) seeded when a seed is given;
- `rerun`: the same in a copy of the student's globals with some names replaced by reference pieces (run once
  per grading session).
"""
import contextlib
import io
import sys

import torch


def plain(value):
    "Tensors as plain detached CPU tensors (fastai's subclasses too), containers recursively; the rest as is."
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().as_subclass(torch.Tensor).clone()
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value) if type(value) is tuple else [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def unpack(packed):
    "Images the grader sent as compressed bytes (0-255), as a uint8 tensor of their shape."
    import base64
    import zlib
    raw = zlib.decompress(base64.b64decode(packed["data"]))
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(packed["shape"])


def cell_code(source):
    "An answer cell's source compiled as the notebook ran it (IPython's magics turned into Python)."
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            source = shell.transform_cell(source)
    except Exception:
        pass
    return compile(source, "<answer cell, run again>", "exec")


@contextlib.contextmanager
def seeded(seed, loaders=()):
    """The kernel's global generators (torch, random, NumPy if loaded) and the `loaders`' own generators seeded with
    `seed` inside, so that a cell run again draws the same numbers; their states are given back afterwards (a
    self-check leaves the notebook's alone)."""
    import random
    np = sys.modules.get("numpy")
    saved = random.getstate(), (np.random.get_state() if np is not None else None)
    pinned = [(dl, dl.rng) for dl in loaders]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        if np is not None:
            np.random.seed(seed % 2 ** 32)
        for dl, _ in pinned:       # fastai's DataLoader shuffles with a generator of its own
            dl.rng = random.Random(seed)
        try:
            yield
        finally:
            random.setstate(saved[0])
            if np is not None:
                np.random.set_state(saved[1])
            for dl, rng in pinned:
                dl.rng = rng


def loaders(env):
    """The objects among `env`'s values (and in a fastai DataLoaders' `.loaders`) that keep a generator of their
    own, `self.rng` (fastai's DataLoader shuffles with it)."""
    import random
    out = []

    def consider(v):
        d = getattr(v, "__dict__", None)
        if isinstance(d, dict) and isinstance(d.get("rng"), random.Random) and all(v is not o for o in out):
            out.append(v)
    for value in list(env.values()):
        consider(value)
        d = getattr(value, "__dict__", None)
        if isinstance(d, dict) and isinstance(d.get("loaders"), (list, tuple)):
            for loader in d["loaders"]:
                consider(loader)
    return out


def run_cell(source, scope, seed=None):
    """Run an answer cell's `source` again in `scope` (seeded first when `seed` is given). Returns the y values of
    every line the cell drew; its printing is swallowed and its figures are closed."""
    plt = sys.modules.get("matplotlib.pyplot")
    before = set(plt.get_fignums()) if plt is not None else set()
    if before:   # a figure still open (a backend that keeps them): the cell must not draw into it
        plt.figure()
    lines = []
    pinned = seeded(seed, loaders(scope)) if seed is not None else contextlib.nullcontext()
    try:
        with pinned, contextlib.redirect_stdout(io.StringIO()):
            exec(cell_code(source), scope)
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            for n in sorted(set(plt.get_fignums()) - before):
                for ax in plt.figure(n).axes:
                    for line in ax.get_lines():
                        try:
                            lines.append([float(v) for v in line.get_ydata()])
                        except (TypeError, ValueError):
                            pass
                plt.close(n)
    return lines


def _kept():
    """Where the reruns of this grading session are kept: beside the engine's per-item snapshots (one kernel, one
    submission; a restarted kernel starts afresh), or nowhere in a self-check (the student may change anything)."""
    snaps = sys.modules.get("__ch4grade_bound__")
    return snaps.setdefault("__reruns__", {}) if isinstance(snaps, dict) else None


def rerun(source, env, seed, **names):
    """Run an answer cell's `source` again in a copy of `env` (the block's view of the student's globals) with
    `names` replaced, seeded with `seed` first. Returns (that copy, the y values of every line the cell drew).

    In a grading session the outcome (or the exception) is kept for (source, seed, names): every check that
    needs the cell trained again, and every later scoring of the session, shares one run. Nothing is lost to a
    student who fills the store: whatever it holds, their own cell could make on a rerun, and the grader judges
    what comes out against labels that never enter the kernel."""
    kept = _kept()
    key = (source, seed, tuple(sorted(names)))
    if kept is not None and key in kept:
        g, lines, error = kept[key]
        if error is not None:
            raise error
        return g, lines
    g = dict(env)
    g.update(names)
    g.setdefault("__name__", "__main__")
    try:
        lines = run_cell(source, g, seed)
    except Exception as e:
        if kept is not None:
            kept[key] = (None, None, e)
        raise
    if kept is not None:
        kept[key] = (g, lines, None)
    return g, lines
