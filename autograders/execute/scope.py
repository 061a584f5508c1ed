"""Run a block of code in someone's globals, then put those globals back as they were.

Self-contained (no imports) because its source is also sent into the student's kernel: the grader's
probes there and a student's in-process self-check run blocks with this one function.
"""


def run_block(ns, body, inputs):
    """Bind `inputs` in the dict `ns`, run `body` there, and return the value it gave to `result`.

    Afterwards every name the inputs or the block bound or rebound is restored (or removed), so a check
    leaves the student's namespace as it found it (objects mutated in place stay mutated)."""
    before = dict(ns)
    try:
        ns.update(inputs)
        ns.pop("result", None)
        exec(compile(body, "<grader>", "exec"), ns)
        return ns.get("result")
    finally:
        for k in [k for k in ns if k not in before]:
            del ns[k]
        for k, v in before.items():
            if ns.get(k, before) is not v:
                ns[k] = v
