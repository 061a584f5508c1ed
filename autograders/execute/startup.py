"""The code the grader runs in a fresh kernel before the student's first cell.

It seeds `random`, NumPy and torch; removes this project from `sys.path` and refuses imports of the
grader's own packages (so a submission cannot call the oracle or read the answer key through them);
and records every matplotlib figure a cell draws (before the inline backend closes it), so checks can
inspect plots. It defines nothing in the student's namespace.
"""
from __future__ import annotations

import inspect

from . import figures

FORBIDDEN = ("autograders", "reference", "solutions", "ch4grade")
_FIGURES_SRC = inspect.getsource(figures)

_TEMPLATE = r'''
def __ch4grade_startup(seed, forbidden, project_root, figures_src):
    import sys, os, random
    import importlib.abc
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != project_root]

    class _Guard(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in forbidden:
                raise ImportError(f"{name} cannot be imported while grading")
            return None
    sys.meta_path.insert(0, _Guard())
    for name in list(sys.modules):
        if name.split(".")[0] in forbidden:
            del sys.modules[name]

    random.seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:
        pass

    fx = {}
    exec(figures_src, fx)
    log, seen = [], set()
    def grab(close):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        try:
            new = []
            for num in plt.get_fignums()[-20:]:   # the newest: a loop of figures must not hide the plot
                fig = plt.figure(num)
                if id(fig) not in seen:
                    seen.add(id(fig))
                    new.append(fig)
            axes_out = fx["axes_data"](new)
            if axes_out:
                log.append(axes_out)
            if close:
                plt.close("all")
        except Exception:
            pass

    def after_cell(*_):
        import matplotlib
        grab(close="inline" not in str(matplotlib.get_backend()))
        seen.clear()
    get_ipython().events.register("post_execute", after_cell)
    try:  # the inline backend's show() closes figures: look at them first
        import matplotlib.pyplot as plt
        show = plt.show
        def show_and_record(*args, **kwargs):
            grab(close=False)
            return show(*args, **kwargs)
        plt.show = show_and_record
    except ImportError:
        pass
    sys.modules["__ch4grade_figures__"] = log

__ch4grade_startup({seed!r}, {forbidden!r}, {root!r}, {figures!r})
del __ch4grade_startup
'''


def startup_code(seed: int, project_root: str) -> str:
    return _TEMPLATE.replace("{seed!r}", repr(seed)).replace("{forbidden!r}", repr(FORBIDDEN)) \
        .replace("{root!r}", repr(project_root)).replace("{figures!r}", repr(_FIGURES_SRC))
