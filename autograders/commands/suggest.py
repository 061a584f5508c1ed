"""`ch4grade suggest NOTEBOOK`: suggested scores for a notebook's prose answers, for graders.

For every prose item the unit's answer key covers: the suggested score and its maximum, the key points
stated (with the words that stated them) and missed, the misconceptions found, the language(s), and a
confidence; a low one is flagged. `--json` prints a list of objects (`id`, `score`, `max_score`, `matched`,
`missed`, `misconceptions`, `languages`, `confidence`, `low_confidence`, `flags`, `note`, ...).
Nothing runs: prose answers are read from the notebook's cells. This is the instructor's tool: it shows
the key's structure, so its output never goes to a student (autograde puts the same suggestions into
formgrader, for graders only).

Exit codes: 0 suggestions printed; 2 the notebook or the answer key could not be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", type=Path, help="a student's notebook (.ipynb)")
    p.add_argument("--assignment", help="the assignment unit (default: from the notebook's metadata or item ids)")
    p.add_argument("--json", action="store_true", help="print the suggestions as a JSON list")
    p.add_argument("--no-semantic", action="store_true",
                   help="leave out the optional semantic signal (ch4grade[semantic]) even when installed")


def _fail(msg: str) -> int:
    print(f"ch4grade suggest: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ..engine import infer_assignment
    from ..notebook import NotebookError, read_notebook
    from ..prose import AnswerKeyError, load_key, suggest_notebook
    from ..prose.answers import prose_answers
    if not args.notebook.is_file():
        return _fail(f"no such notebook: {args.notebook}")
    try:
        nb = read_notebook(args.notebook)
    except NotebookError as e:
        return _fail(f"cannot read {args.notebook}: {e}")
    name = args.assignment or infer_assignment(nb)
    if not name:
        return _fail("cannot tell which assignment this notebook is: pass --assignment")
    try:
        key = load_key(name)
    except (FileNotFoundError, AnswerKeyError) as e:
        return _fail(str(e))
    answers = prose_answers(nb, key)
    if not answers:
        return _fail(f"no prose answer of {name} in {args.notebook} (no cell with one of its item ids)")
    suggestions = suggest_notebook(answers, key, semantic=None if args.no_semantic else "auto")
    if args.json:
        json.dump([s.to_dict() for s in suggestions.values()], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    total = sum(s.score for s in suggestions.values())
    out_of = sum(s.max_score for s in suggestions.values())
    print(f"{args.notebook.name} ({name}): suggested scores for {len(suggestions)} prose answers "
          f"(a grader confirms each)\n")
    for s in suggestions.values():
        lang = "+".join(s.languages) or "-"
        flag = "  LOW CONFIDENCE" if s.low_confidence else ""
        print(f"{s.item_id}: {s.score:g}/{s.max_score:g}  [{lang}]  confidence {s.confidence:.2f}{flag}")
        for m in s.matched:
            print(f"    + {m['id']} ({m['points']:g}): {' / '.join(m['words'])}")
        for miss in s.missed:
            print(f"    - {miss}")
        for m in s.misconceptions:
            print(f"    ! misconception {m['id']} (-{m['cost']:g}): {' / '.join(m['words'])}")
        for f in s.flags:
            print(f"    ? {f}")
    low = [s.item_id for s in suggestions.values() if s.low_confidence]
    print(f"\nsuggested total {total:g}/{out_of:g}; low confidence: {', '.join(low) if low else 'none'}")
    return 0
