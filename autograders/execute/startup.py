"""The code the grader runs in a fresh kernel before the student's first cell.

It removes this project from `sys.path` and refuses imports of the
grader's own packages (so a submission cannot call the oracle or read the answer key through them);
and records every matplotlib figure a cell draws (before the inline backend closes it), so checks can
inspect plots. It imports the modules the instructor's notebook imports (a prestarted kernel has torch and
fastai loaded before its turn comes), then seeds `random`, NumPy and torch and sets torch's determinism flags
(`DETERMINISM`: no TF32 in matmul or cuDNN, no cuDNN autotuning). It defines nothing in the student's
namespace.
"""
from __future__ import annotations

import inspect

from . import figures

FORBIDDEN = ("autograders", "reference", "solutions", "ch4grade")
# What the startup cell sets in torch, recorded in every result (`environment.determinism`); the kernel's
# environment also carries CUBLAS_WORKSPACE_CONFIG (deterministic cuBLAS on CUDA >= 10.2).
DETERMINISM = {"torch.backends.cuda.matmul.allow_tf32": False, "torch.backends.cudnn.allow_tf32": False,
               "torch.backends.cudnn.benchmark": False, "torch.backends.cudnn.deterministic": True,
               "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
_FIGURES_SRC = inspect.getsource(figures)

_TEMPLATE = r'''
def __ch4grade_startup(seed, forbidden, project_root, figures_src, imports):
    import sys, os, random, importlib
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

    for name in imports:       # what the notebook will import anyway; a failure is the student's cell's to show
        try:
            importlib.import_module(name)
        except BaseException:
            pass
    random.seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch
        torch.manual_seed(seed)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
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

__ch4grade_startup({seed!r}, {forbidden!r}, {root!r}, {figures!r}, {imports!r})
del __ch4grade_startup
'''


def startup_code(seed: int, project_root: str, imports: tuple[str, ...] = ()) -> str:
    "The startup cell: `imports` are module names (the instructor notebook's; forbidden ones are refused)."
    imports = tuple(m for m in imports if m.split(".")[0] not in FORBIDDEN)
    return _TEMPLATE.replace("{seed!r}", repr(seed)).replace("{forbidden!r}", repr(FORBIDDEN)) \
        .replace("{root!r}", repr(project_root)).replace("{figures!r}", repr(_FIGURES_SRC)) \
        .replace("{imports!r}", repr(imports))
