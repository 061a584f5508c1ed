"""The student's bundle: what a student receives to check their work before they submit, and nothing more.

    record.py   (grader side, at release) runs the public checks on the model answers under a fixed public seed
                and records each probe the check sent into the kernel and what came back;
    seal.py     (grader side) turns a recording into what may be handed out: the probes and the expected
                values, where a value the model answer holds (an answer) is kept only as a salted hash or a few
                random projections, and an input that is an answer is taken from the student's own globals;
    runtime.py  (student side) `check("q09")`: finds the item's answer cell by its grade_id, replays the probes
                against the student's globals and prints one ✓ / ✗ line per check;
    bundle.py   writes the folder: the released notebook (its check cells import `ch4check`), `ch4check.py`
                (runtime.py with the codec and block runner it uses inlined) and `ch4check_data.json.gz`.

The folder holds no reference code, no hidden check and no solution; `tests/test_student_bundle.py` proves it.
"""
