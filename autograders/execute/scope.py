"""Run a grader's block of code beside a student's globals without handing the student the grader's inputs.

Self-contained (no module-level imports) because its source is also sent into the student's kernel: the
grader's probes there and a student's in-process self-check run blocks with this one function.
"""


def run_block(ns, body, inputs, bound=None, ref=None):
    """Run `body` and return the value it gives to `result`.

    `bound`: the student's globals as they were right after the answer cell of the item being checked (a
    dict): swapped in for the block's duration, so the student's functions see the names of that moment and
    a later cell that redefined one changes nothing. `ref`: the source of the assignment's kernel-side
    helpers, run afresh in a module of its own and bound as `ref` in the block (checks with `given`).

    The block runs in a scope of its own: a copy of the student's globals `ns` (less any name that shadows
    a builtin, so `type`, `len` or `float` in the block are always Python's) with `inputs` bound. The
    student's functions keep their own globals, where `inputs` never appear, and whatever the block
    assigns stays in its scope. A check that must feed a student's function through a global it reads
    (the book's `dl`, `opt`, `time`) calls `set_global(name, value)` in the block: the name is set in
    the student's globals for the block's duration, then restored (or removed)."""
    import builtins
    import types
    real = vars(builtins)
    live, scope, missing, saved = None, {}, object(), {}

    def set_global(name, value):
        if name not in saved:
            saved[name] = ns.get(name, missing)
        ns[name] = scope[name] = value

    try:
        if isinstance(bound, dict):
            live = dict(ns)
            ns.clear()
            ns.update(bound)
        scope.update((k, v) for k, v in ns.items() if k not in real)
        scope.update(inputs)
        scope["__builtins__"], scope["set_global"] = real, set_global
        if ref is not None:
            module = types.ModuleType("ch4grade_ref")
            exec(compile(ref, "<ch4grade kernel helpers>", "exec"), module.__dict__)
            scope["ref"] = module
        exec(compile(body, "<grader>", "exec"), scope)
        return scope.get("result")
    finally:
        for k, v in saved.items():
            if v is missing:
                ns.pop(k, None)
            else:
                ns[k] = v
        if live is not None:
            ns.clear()
            ns.update(live)
        scope.clear()   # the scope and `set_global` refer to each other: break the cycle, free what it held
