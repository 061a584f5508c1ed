"""The corpus: each case builds one hostile or broken submission and says what grading must give.

`Case.make(folder)` writes the file and returns its path; `scores` are the exact per-item scores
(None: the file cannot be graded, so every item is `not_run` and the result has status `error`);
`reason` is (where, text): the text must appear in that place of the result, so the reason is clear:
`item:<id>` (its feedback), `cell:<id>` (the executed cell's status and detail), `notes`, or `error`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from . import tiny
from .tiny import FULL, build, write

# Unique markers so a test can find a process this corpus started (and only those).
SLEEP_TOKEN = "987.654"        # `sleep 987.654`, started with start_new_session=True
SLEEP_NOENV = "876.543"        # `sleep 876.543`, started with an empty environment (no kernel token)


@dataclass
class Case:
    name: str
    make: Callable[[Path], Path]
    scores: dict | None
    reason: tuple[str, str]
    note: str = ""


def _nb(answers=None, **kw) -> Callable[[Path], Path]:
    return lambda folder, name=None: write(folder / f"{name}.ipynb", build(answers, **kw))


def _edit(fn, answers=None) -> Callable[[Path, str], Path]:
    "A submission built, then edited by `fn(nb)` (a list of cells to change in place)."
    def make(folder, name):
        nb = build(answers)
        fn(nb)
        return write(folder / f"{name}.ipynb", nb)
    return make


def _raw(content: bytes | str, suffix=".ipynb") -> Callable[[Path, str], Path]:
    def make(folder, name):
        path = folder / f"{name}{suffix}"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path
    return make


def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


WRONG_DIST = "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"  # L2, not L1
TOTAL = tiny.GOOD["total"]

# ---- runaway code, crashes, memory ------------------------------------------------------------
RUNAWAY = [
    Case("infinite_loop", _nb({"total": "while True:\n    pass\n" + TOTAL}), {**FULL, "total": 0.0},
         ("cell:total", "timeout")),
    Case("memory_bomb_rss", _nb({"total": "x = torch.ones(700_000_000)\n" + TOTAL}), {**FULL, "total": 0.0},
         ("cell:total", "memory")),
    Case("memory_bomb_address_space", _nb({"total": "x = bytearray(64 * 2**30)\n" + TOTAL}),
         {**FULL, "total": 0.0}, ("cell:total", "MemoryError")),
    Case("os_exit", _nb({"total": "import os\nos._exit(1)\n" + TOTAL}), {**FULL, "total": 0.0},
         ("notes", "stopped the kernel")),
    Case("segfault_ctypes", _nb({"total": "import ctypes\nctypes.string_at(0)\n" + TOTAL}), {**FULL, "total": 0.0},
         ("notes", "stopped the kernel")),
    Case("sys_exit", _nb({"total": "import sys\nsys.exit()\n" + TOTAL}), {**FULL, "total": 0.0},
         ("cell:total", "SystemExit")),
    Case("raise_system_exit", _nb({"total": "raise SystemExit(0)\n" + TOTAL}), {**FULL, "total": 0.0},
         ("cell:total", "SystemExit")),
    Case("child_outlives_kernel", _nb({"total": "import subprocess\n"
                                       f"p = subprocess.Popen(['sleep', '{SLEEP_TOKEN}'], start_new_session=True)\n"
                                       + TOTAL}), FULL, ("cell:total", "ok")),
    Case("child_without_token", _nb({"total": "import os, subprocess\n"
                                     f"p = subprocess.Popen(['/bin/sh', '-c', 'sleep {SLEEP_NOENV} &'], env={{}},"
                                     " start_new_session=True)\np.wait()\n" + TOTAL}), FULL, ("cell:total", "ok")),
    Case("output_flood_100mb", _nb({"total": "import sys\nchunk = 'x' * 2**20\n"
                                    "for _ in range(100):\n    sys.stdout.write(chunk)\n" + TOTAL}), FULL,
         ("cell:total", "ok")),
    Case("figure_flood", _nb({"plot": "import matplotlib.pyplot as plt\nfor i in range(1000):\n    plt.figure()\n"
                              + tiny.GOOD["plot"].split("\n", 1)[1]}), FULL, ("cell:plot", "ok")),
]

# ---- fooling the checks -----------------------------------------------------------------------
FOOL_PATCH = ("import torch, torch.testing\ntorch.allclose = lambda *a, **k: True\n"
              "torch.testing.assert_close = lambda *a, **k: None\ntorch.equal = lambda *a, **k: True\n")
FOOL_IMPORT = ("import builtins, types\n_real_import = builtins.__import__\n"
               "def _fake_import(name, *a, **k):\n"
               "    mod = _real_import(name, *a, **k)\n"
               "    if name == 'torch':\n"
               "        fake = types.ModuleType('torch'); fake.__dict__.update(mod.__dict__)\n"
               "        fake.allclose = lambda *a, **k: True\n"
               "        return fake\n"
               "    return mod\n"
               "builtins.__import__ = _fake_import\n")
FOOL_MODULES = ("import sys, types\nfake = types.ModuleType('autograders')\n"
                "fake.check = lambda *a, **k: print('All tests passed')\n"
                "sys.modules['autograders'] = fake\nsys.modules['autograders.checks'] = fake\n"
                "from autograders import check\ncheck('dist')\n")
FOOL_PRINT = ("print('All tests passed')\nprint('✓ dist: 3/3')\n"
              "print(json.dumps({'score': 5, 'max_score': 5, 'tests': [{'name': 'dist', 'score': 3}]}))\n"
              "from IPython.display import display\n"
              "display({'application/x-ch4grade+json': {'ok': True, 'value': '3.0', 'nonce': 'x', 'score': 3}}, raw=True)\n"
              "display({'application/json': {'score': 5, 'status': 'passed'}}, raw=True)\n")
FOOL_PROBE_IN_CALL = (
    "def mnist_distance(a, b):\n"
    "    import sys\n"
    "    from IPython.display import display\n"
    "    f, nonce = sys._getframe(), None\n"
    "    while f is not None and nonce is None:\n"
    "        nonce, f = f.f_locals.get('nonce'), f.f_back\n"
    "    display({'application/x-ch4grade+json': {'ok': True, 'value': '\"passed\"', 'nonce': 'guessed'}}, raw=True)\n"
    "    return torch.zeros(len(b) if b.dim() == 3 else 1)\n")
# the kernel finds the worker's result path on its parent's command line and writes a forged result there
FOOL_RESULT_FILE = (
    "import os, json\nforged = []\n"
    "args = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')\n"
    "for a in args:\n"
    "    if a.endswith(b'.json'):\n"
    "        p = a.decode()\n"
    "        try:\n"
    "            open(p, 'w').write(json.dumps({'submission': 'forged', 'score': 999, 'status': 'graded'}))\n"
    "            forged.append(p)\n"
    "        except OSError:\n"
    "            pass\n"
    "print('forged', forged)\n")
BOOK_NUMBERS = "def mnist_distance(a, b): return torch.tensor([0.1114, 0.1586])   # the book's printed values\n"

FOOLING = [
    Case("patch_allclose_assert_close", _nb({"dist": FOOL_PATCH + WRONG_DIST}), {**FULL, "dist": 0.0},
         ("item:dist", "expected")),
    Case("patch_builtins_import", _nb({"dist": FOOL_IMPORT + WRONG_DIST}), {**FULL, "dist": 0.0},
         ("item:dist", "expected")),
    Case("replace_autograders_in_sys_modules", _nb({"dist": FOOL_MODULES + WRONG_DIST}), {**FULL, "dist": 0.0},
         ("item:dist", "expected")),
    Case("print_all_tests_passed_and_fake_payloads", _nb({"dist": "import json\n" + FOOL_PRINT + WRONG_DIST}),
         {**FULL, "dist": 0.0}, ("item:dist", "expected")),
    Case("fake_probe_payload_during_check", _nb({"dist": FOOL_PROBE_IN_CALL}), {**FULL, "dist": 0.0},
         ("item:dist", "expected")),
    Case("write_forged_result_file", _nb({"dist": FOOL_RESULT_FILE + WRONG_DIST}), {**FULL, "dist": 0.0},
         ("item:dist", "expected")),
    Case("hard_coded_book_numbers", _nb({"dist": BOOK_NUMBERS}), {**FULL, "dist": 0.0}, ("item:dist", "mnist_distance")),
    Case("import_reference", _nb({"dist": "from reference.pixel_similarity import mnist_distance"}),
         {**FULL, "dist": 0.0}, ("cell:dist", "cannot be imported while grading")),
    Case("import_autograders", _nb({"dist": "import sys\nsys.path.insert(0, '.')\nfrom autograders.checks import get_assignment"
                                    "\n" + WRONG_DIST}),
         {**FULL, "dist": 0.0}, ("cell:dist", "cannot be imported while grading")),
    Case("import_solutions", _nb({"dist": "import solutions\n" + WRONG_DIST}), {**FULL, "dist": 0.0},
         ("cell:dist", "cannot be imported while grading")),
]

# ---- tampering with the notebook's structure --------------------------------------------------
def _edit_locked(nb):
    _cell(nb, "setup").source = "raise SystemExit('no torch for you')"


def _delete_locked(nb):
    nb.cells.remove(_cell(nb, "setup"))


def _delete_answer(nb):
    nb.cells.remove(_cell(nb, "total"))


def _duplicate_answer(nb):
    c = _cell(nb, "dist")
    nb.cells.insert(nb.cells.index(c) + 1, copy.deepcopy(c))


def _split_answer(nb):
    c = _cell(nb, "dist")
    second = copy.deepcopy(c)
    c.source, second.source = "import torch", tiny.GOOD["dist"]
    nb.cells.insert(nb.cells.index(c) + 1, second)


def _rename_grade_id(nb):
    _cell(nb, "total").metadata["nbgrader"]["grade_id"] = "total_v2"


def _strip_metadata(nb):
    del _cell(nb, "dist").metadata["nbgrader"]


def _kernelspec(spec):
    def edit(nb):
        if spec is None:
            nb.metadata.pop("kernelspec", None)
        else:
            nb.metadata["kernelspec"] = spec
    return edit


STRUCTURE = [
    Case("locked_cell_edited", _edit(_edit_locked), FULL, ("notes", "was edited")),
    Case("locked_cell_deleted", _edit(_delete_locked), FULL, ("notes", "was deleted")),
    Case("answer_cell_deleted", _edit(_delete_answer), {**FULL, "total": 0.0}, ("item:total", "missing")),
    Case("answer_cell_duplicated", _edit(_duplicate_answer), {**FULL, "dist": 0.0}, ("item:dist", "appears 2 times")),
    Case("answer_cell_split", _edit(_split_answer), {**FULL, "dist": 0.0}, ("item:dist", "appears 2 times")),
    Case("answer_cell_moved", _nb(order=["plot", "dist", "total"]), {**FULL, "plot": 0.0}, ("item:plot", "moved")),
    Case("grade_id_changed", _edit(_rename_grade_id), {**FULL, "total": 0.0}, ("item:total", "missing")),
    Case("grade_id_stripped", _edit(_strip_metadata), {**FULL, "dist": 0.0}, ("item:dist", "missing")),
    Case("kernelspec_missing", _edit(_kernelspec(None)), FULL, ("cell:dist", "ok")),
    Case("kernelspec_unknown", _edit(_kernelspec({"name": "evil-R", "display_name": "R", "language": "R"})), FULL,
         ("cell:dist", "ok")),
]

# ---- files that are not (good) notebooks -----------------------------------------------------
def _v3(folder, name):
    "A real nbformat v3 notebook (worksheets) with the same cells: upgraded and graded normally."
    v4 = build()
    v3 = nbformat.v3.nbbase.new_notebook(metadata=dict(v4.metadata))
    cells = []
    for c in v4.cells:
        if c.cell_type == "code":
            cells.append(nbformat.v3.new_code_cell(input=c.source, metadata=dict(c.metadata)))
        else:
            cells.append(nbformat.v3.new_text_cell("markdown", source=c.source, metadata=dict(c.metadata)))
    v3.worksheets = [nbformat.v3.new_worksheet(cells=cells)]
    path = folder / f"{name}.ipynb"
    path.write_text(nbformat.v3.writes_json(v3))
    return path


def _truncated(folder, name):
    text = nbformat.writes(build())
    return _raw(text[: len(text) // 2])(folder, name)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

FILES = [
    Case("nbformat_v3", _v3, FULL, ("cell:dist", "ok")),
    Case("empty_file", _raw(b""), None, ("error", "empty")),
    Case("malformed_json", _raw('{"cells": [{"cell_type": "code", '), None, ("error", "not valid notebook JSON")),
    Case("truncated_notebook", _truncated, None, ("error", "not valid notebook JSON")),
    Case("json_not_a_notebook", _raw('{"hello": "world"}'), None, ("error", "not a Jupyter notebook")),
    Case("non_utf8_bytes", _raw(b'{"cells": [], "x": "\xff\xfe\xfa"}'), None, ("error", "not UTF-8")),
    Case("png_named_ipynb", _raw(PNG), None, ("error", "not UTF-8")),
    Case("python_file", _raw("def mnist_distance(a, b):\n    return (a - b).abs().mean((-1, -2))\n", ".py"), None,
         ("error", "not valid notebook JSON")),
]

# ---- the sandbox: what a determined student tries against the grader itself ----------------------
# The fixture fills CONTEXT before it builds the notebooks: the project's root, the venv's site-packages,
# the batch's results folder, the port of a TCP listener on the host's loopback, and which limits hold here.
CONTEXT: dict = {}


def _ctx(key):
    return CONTEXT[key]


def _sandboxed(cell_src: Callable[[], str], answers_key: str, then: str = WRONG_DIST) -> Callable[[Path, str], Path]:
    "A submission whose `answers_key` cell runs an attack (built from CONTEXT at make time), then `then`."
    def make(folder, name):
        return write(folder / f"{name}.ipynb", build({answers_key: cell_src() + "\n" + then}))
    return make


def _read_answer_key() -> str:
    root = _ctx("root")
    unit = f"{root}/autograders/assignments/ch04_pixel_similarity"
    paths = [f"{unit}/answer_key.yaml", f"{unit}/ch04_pixel_similarity.ipynb", f"{unit}/kernel.py",
             f"{root}/reference/pixel_similarity.py", str(tiny.SOURCE)]
    return ("import json\nfound = {}\n"
            f"for p in {paths!r}:\n"
            "    try:\n        found[p] = open(p).read()[:100]\n    except OSError as e:\n        found[p] = repr(e)\n"
            f"src = json.load(open({str(tiny.SOURCE)!r}))   # the instructor notebook: run its solution\n"
            "exec(''.join(next(c['source'] for c in src['cells'] if c['metadata'].get('nbgrader', {})"
            ".get('grade_id') == 'dist')))\n")


def _import_guard_removed() -> str:
    return ("import sys\nsys.meta_path[:] = [f for f in sys.meta_path if 'Guard' not in type(f).__name__]\n"
            f"sys.path.insert(0, {str(_ctx('root'))!r})\n"
            "from reference.pixel_similarity import mnist_distance\n")


def _poison_site_packages() -> str:
    site = _ctx("site_packages")
    pth = "import autograders.engine as e; e.Grader._run_check = lambda self, c, ns: None"
    return ("written = []\n"
            f"for p, text in [({site + '/ch4grade_poison.pth'!r}, {pth!r}),\n"
            f"                ({site + '/sitecustomize.py'!r}, 'print(1)')]:\n"
            "    try:\n        open(p, 'w').write(text); written.append(p)\n    except OSError:\n        pass\n"
            "assert not written, written\n")


def _plant_modules_then_crash() -> str:
    return ("import os, tempfile\n"
            "for d in {os.getcwd(), os.path.expanduser('~'), tempfile.gettempdir(), '/tmp'}:\n"
            "    for name in ('ipykernel_launcher.py', 'site.py', 'sitecustomize.py', 'usercustomize.py',\n"
            "                 'launch.py', 'landlock.py'):\n"
            "        try:\n"
            "            open(os.path.join(d, name), 'w').write('import os; os.environ.pop(\"X\", None)\\n')\n"
            "        except OSError:\n            pass\n"
            "os._exit(1)   # the next kernel is launched: it must not import any of these\n")


def _network_to_host() -> str:
    port = _ctx("port")
    return ("import socket, ctypes, os\nreached = []\n"
            "for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):\n"
            "    try:\n"
            f"        s = socket.socket(family); s.settimeout(2); s.connect((host, {port})); reached.append(host)\n"
            "    except OSError:\n        pass\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        try:\n"
            "            fd = os.open(f'/proc/{pid}/ns/net', os.O_RDONLY)\n"
            "            if libc.setns(fd, 0x40000000) == 0:\n"
            "                s = socket.socket(); s.settimeout(2)\n"
            f"                if s.connect_ex(('127.0.0.1', {port})) == 0: reached.append('setns ' + pid)\n"
            "        except OSError:\n            pass\n"
            "assert not reached, reached\n")


def _signal_everything() -> str:
    return ("import os, signal\nfor pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    if pid != os.getpid():\n"
            "        for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
            "            try:\n                os.kill(pid, sig)\n            except OSError:\n                pass\n"
            "try:\n    os.kill(-1, signal.SIGSTOP)\nexcept OSError:\n    pass\n")


def _forge_results() -> str:
    out = str(_ctx("out_dir"))
    forged = {"submission": "forged", "assignment": NAME_TINY, "status": "graded", "items": [], "score": 999}
    return ("import os, json\n"
            f"for name in ('good2.json', 'wrong.json', 'forge_results_and_kill_worker.json', '.ch4grade-index.json'):\n"
            f"    p = os.path.join({out!r}, name)\n"
            "    try:\n"
            "        os.makedirs(os.path.dirname(p), exist_ok=True)\n"
            f"        open(p, 'w').write(json.dumps({forged!r}))\n"
            "        os.makedirs(p + '.d')\n"
            "    except OSError:\n        pass\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    try:\n"
            "        if b'autograders' in open(f'/proc/{pid}/cmdline', 'rb').read():\n"
            "            os.kill(int(pid), 9)\n"
            "    except OSError:\n        pass\n")


def _child_memory_bomb() -> str:
    return ("import subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-c', 'x = b\"1\" * (3 * 2**30); import time; time.sleep(30)'],\n"
            "                     env={}, start_new_session=True)\n"
            "rc = p.wait()\nraise RuntimeError(f'child ended with {rc}')\n")


def _fork_bomb() -> str:
    "Thousands of processes (small ones: a shell's `sleep`s), in a session of their own, output detached."
    return ("import subprocess\n"
            "r = subprocess.run(['/bin/sh', '-c', 'i=0; while [ $i -lt 5000 ]; do sleep 60 >/dev/null 2>&1 & "
            "i=$((i+1)); done'], capture_output=True, text=True, start_new_session=True)\n"
            "raise RuntimeError(f'the shell said: {r.stderr.strip()[-200:]}')\n")


def _disk_fill() -> str:
    return ("import os\nchunk = b'x' * 2**20\nwith open('/tmp/fill.bin', 'wb') as f:\n"
            "    for _ in range(4096):\n        f.write(chunk)\n")


RECORD_SHAPES = ("seen = []\ndef mnist_distance(a, b):\n    seen.append(tuple(b.shape))\n"
                 "    return (a - b).abs().mean((-1, -2))\n")
LEAK_SHAPES = "def total(n):\n    raise ValueError(f'shapes seen so far: {seen}')\n"


def _leak_answer_key() -> str:
    import inspect
    hidden = inspect.getsource(next(c.fn for c in tiny.A.items["dist"].checks if c.hidden))
    secret = "Because the mean of absolute differences is robust. " + hidden.splitlines()[-1]
    return f"def total(n):\n    raise ValueError({secret!r})\n"


def _payload_flood() -> str:
    return ("from IPython.display import display\nblob = 'x' * (20 * 2**20)\n"
            "for i in range(10):\n    display({'application/x-ch4grade+json': {'nonce': str(i), 'value': blob}}, raw=True)\n"
            "def mnist_distance(a, b):\n"
            "    for i in range(3):\n"
            "        display({'application/x-ch4grade+json': {'nonce': str(i), 'value': blob}}, raw=True)\n"
            "    return (a - b).abs().mean((-1, -2))\n")


FIGURE_LOG_POISON = ("import sys\nlog = sys.modules['__ch4grade_figures__']\n"
                     "log.append([{'lines': [1]}]); log.append([1, 'x', {'lines': [{'x': 'no', 'y': None}]}])\n"
                     "log.append({'not': 'a list'})\n")
MALFORMED_MESSAGES = ("k = get_ipython().kernel\n"
                      "k.session.send(k.iopub_socket, 'stream', k.session.pack([1, 2]), parent=k.get_parent())\n"
                      "k.session.send(k.iopub_socket, 'display_data', {'data': [1], 'metadata': 3}, parent=k.get_parent())\n"
                      "from IPython.display import display\n"
                      "display({'text/plain': 5, 'image/png': [1, 2], 'application/json': {'a': 1}}, raw=True)\n")


KILL_ON_FIGURE_PROBE = ("import os\ndef _kill(lines):\n"
                        "    if any('__ch4grade_figures__' in l for l in lines):\n        os._exit(1)\n"
                        "    return lines\nget_ipython().input_transformers_cleanup.append(_kill)\n")


NAME_TINY = tiny.NAME
ZERO_DIST, ZERO_TOTAL = {**FULL, "dist": 0.0}, {**FULL, "total": 0.0}
SANDBOX = [
    Case("read_answer_key", _sandboxed(_read_answer_key, "dist", ""), ZERO_DIST, ("cell:dist", "No such file")),
    Case("import_guard_removed", _sandboxed(_import_guard_removed, "dist", ""), ZERO_DIST,
         ("cell:dist", "No module named 'reference'")),
    Case("poison_site_packages", _sandboxed(_poison_site_packages, "dist"), ZERO_DIST, ("cell:dist", "ok")),
    Case("plant_modules_then_crash", _sandboxed(_plant_modules_then_crash, "dist"), ZERO_DIST,
         ("notes", "stopped the kernel")),
    Case("network_to_host_loopback", _sandboxed(_network_to_host, "dist"), ZERO_DIST, ("cell:dist", "ok")),
    Case("forge_results_and_kill_worker", _sandboxed(_forge_results, "dist"), ZERO_DIST, ("cell:dist", "ok")),
    Case("exfiltrate_hidden_inputs", _nb({"dist": RECORD_SHAPES, "total": LEAK_SHAPES}), ZERO_TOTAL,
         ("item:total", "shapes seen so far")),
    Case("leak_answer_key_in_message", _sandboxed(_leak_answer_key, "total", ""), ZERO_TOTAL,
         ("item:total", "message withheld")),
    Case("probe_payload_flood", _sandboxed(_payload_flood, "dist", ""), FULL, ("cell:dist", "ok")),
    Case("nested_user_namespace", _sandboxed(lambda: "import ctypes\nassert ctypes.CDLL(None).unshare(0x10000000) != 0\n",
                                             "dist"), ZERO_DIST, ("cell:dist", "ok")),
    Case("kill_on_figure_probe", _nb({"total": KILL_ON_FIGURE_PROBE + TOTAL}), ZERO_TOTAL,
         ("notes", "the kernel died after cell `total`")),
    Case("figure_log_poisoned", _nb({"plot": tiny.GOOD["plot"] + "\n" + FIGURE_LOG_POISON}), FULL, ("cell:plot", "ok")),
    Case("malformed_kernel_messages", _nb({"dist": MALFORMED_MESSAGES + tiny.GOOD["dist"]}), FULL, ("cell:dist", "ok")),
]
# only where the limit they test is enforced (root with cgroups, bubblewrap's pid namespace and tmpfs)
SANDBOX_LIMITS = {
    "signal_everything": Case("signal_everything", _sandboxed(_signal_everything, "dist"), ZERO_DIST,
                              ("cell:dist", "ok")),
    "child_memory_bomb_without_token": Case("child_memory_bomb_without_token", _sandboxed(_child_memory_bomb, "total"),
                                            ZERO_TOTAL, ("cell:total", "child ended with -9")),
    "fork_bomb": Case("fork_bomb", _sandboxed(_fork_bomb, "total", ""), ZERO_TOTAL, ("cell:total", "Cannot fork")),
    "disk_fill": Case("disk_fill", _sandboxed(_disk_fill, "total"), ZERO_TOTAL, ("cell:total", "No space left")),
}

ALL = RUNAWAY + FOOLING + STRUCTURE + FILES
BY_NAME = {c.name: c for c in ALL}
assert len(BY_NAME) == len(ALL)
