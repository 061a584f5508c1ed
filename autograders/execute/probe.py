"""Probes: small programs the grader runs in the student's kernel to get values back safely.

A probe runs a block beside the student's globals (`scope.run_block`: the grader's inputs, sent in the safe
format of `codec`, live in the block's own scope, never in the student's globals) and publishes the value
of `result` (encoded by the same codec) as a display message of its own mimetype, tagged with a nonce;
the session keeps only the first payload with that nonce. Whatever the student's code prints is ignored.
"""
from __future__ import annotations

import inspect
import uuid

from . import codec, scope

MIME = "application/x-ch4grade+json"
_CODEC_SRC = inspect.getsource(codec) + "\n" + inspect.getsource(scope)

_PROBE = r'''
def __ch4grade_probe(codec_src, inputs_json, body, nonce, mime, item, ref, seed):
    import sys, traceback
    c = {"__name__": "__ch4grade_codec__"}
    exec(codec_src, c)
    ip = get_ipython()
    try:
        if seed is not None:   # the kernel's generators too: a shuffling DataLoader draws the same each time
            import random
            random.seed(seed)
            for name in ("torch", "numpy"):
                m = sys.modules.get(name)
                seeder = getattr(m, "manual_seed", None) or getattr(getattr(m, "random", None), "seed", None)
                if callable(seeder):
                    seeder(seed)
        snaps = sys.modules.get("__ch4grade_bound__")
        bound = snaps.get(item) if isinstance(snaps, dict) and item else None
        value = c["run_block"](ip.user_ns, body, c["decode"](inputs_json), bound, ref)
        out = {"ok": True, "value": c["encode"](value)}
    except BaseException as e:
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        out = {"ok": False, "ename": type(e).__name__, "evalue": str(e)[:2000], "traceback": tb[-6:]}
    out["nonce"] = nonce
    ip.display_pub.publish(data={mime: out}, metadata={})
'''


def probe_code(body: str, inputs: dict | None = None, item: str | None = None,
               ref: str | None = None, seed: int | None = None) -> tuple[str, str]:
    """The code to execute for `body` with `inputs` bound (see `scope.run_block`), and the nonce its answer
    carries. `item`: run against the globals bound right after that item's answer cell (`snapshot_code`);
    `ref`: the kernel-side helpers' source, bound as `ref` in the block; `seed`: seeds the kernel's `random`,
    `torch` and `numpy` generators before the block (a check's probes draw the same for the same seed)."""
    nonce = uuid.uuid4().hex
    call = (f"__ch4grade_probe({_CODEC_SRC!r}, {codec.encode(inputs or {})!r}, {body!r}, "
            f"{nonce!r}, {MIME!r}, {item!r}, {ref!r}, {seed!r})")
    return f"{_PROBE}\n{call}\ndel __ch4grade_probe\n", nonce


def figure_axes(drawn) -> list[dict]:
    """The axes in what the figure log sent back, rebuilt from scratch: whatever else the kernel put there
    (the log is the student's to tamper with) is dropped, never trusted."""
    import numpy as np
    import torch

    def text(v) -> str:
        return v[:200] if isinstance(v, str) else ""

    axes = []
    for fig in drawn if isinstance(drawn, list) else []:
        for ax in fig if isinstance(fig, list) else []:
            if not isinstance(ax, dict):
                continue
            lines = []
            for line in ax.get("lines") if isinstance(ax.get("lines"), list) else []:
                if isinstance(line, dict) and all(isinstance(line.get(k), np.ndarray) and line[k].ndim == 1
                                                  for k in ("x", "y")):
                    lines.append({"x": torch.from_numpy(line["x"]), "y": torch.from_numpy(line["y"]),
                                  "label": text(line.get("label"))})
            axes.append({"lines": lines, **{k: text(ax.get(k)) for k in ("title", "xlabel", "ylabel")}})
    return axes


def snapshot_code(item: str) -> str:
    """Code (run as a cell of its own, silently) that binds `item` to the student's globals as they are now:
    its checks later see these names, whatever later cells redefine (a shallow copy: the same objects)."""
    return ("__import__('sys').modules.setdefault('__ch4grade_bound__', {})[%r] = "
            "{k: v for k, v in get_ipython().user_ns.items() if not k.startswith('__ch4grade')}\n" % item)


def figures_code() -> str:
    "A probe body whose `result` is the figures drawn since the last call (and forgets them)."
    return ("import sys as __s\n__log = __s.modules.get('__ch4grade_figures__')\n"
            "result = list(__log) if isinstance(__log, list) else []\n"
            "__log.clear() if isinstance(__log, list) else None\ndel __s, __log\n")
