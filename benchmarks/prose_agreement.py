"""How often the prose suggestion agrees with a labelled verdict, how much stuffing earns, and how fast it is.

    uv run python benchmarks/prose_agreement.py [--assignment ch04_questionnaire] [--no-semantic] [--show N]

Reads the labelled answers in tests/prose_eval/ (dev.yaml, dev2.yaml: the sets the answer key was tuned on;
holdout.yaml: written separately and never used for tuning) and prints, per set:
- agreement of the suggested band (right: share >= 0.75, wrong: <= 0.25, else partial) with the label,
  by language and by kind (target >= 90%);
- the mean suggested share for stuffed answers (target <= 10%);
and, for whole notebooks:
- the two stuffing attacks of issue 11 built from the key itself: one key word per key point in each
  cell (English, then Korean), and one word salad of every item's key words pasted into every cell;
- time per notebook (33 answers), cold (analyser and encoder loading) and warm.
Baseline, side by side: the keyword rubric this replaced (any key term anywhere counts), computed here
from the same key.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT / "tests" / "prose_eval"


def keyword_baseline(item, text: str) -> float:
    "The replaced rubric: a key point counts when any of its terms occurs anywhere in the answer."
    from autograders.prose.clauses import analyse
    from autograders.prose.match import term_in
    a = analyse(text)
    clauses = [c for s in a.sentences for c in s.clauses]
    got = sum(p.points for p in item.key_points
              if any(term_in(t, c, a.text) for cl in p.claims for t in cl.groups[0] for c in clauses))
    return min(got, item.points) / item.points


def load_set(name: str) -> list[dict]:
    import yaml
    path = EVAL / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


def evaluate(name: str, answers: list[dict], key, semantic, show: int) -> dict:
    from autograders.prose import suggest
    from autograders.prose.suggest import band
    by = defaultdict(lambda: [0, 0])
    base_ok = 0
    stuffed, stuffed_base, misses, flagged_misses, flagged_agreements = [], [], [], 0, 0
    for a in answers:
        s = suggest(a["item"], a["text"], key, semantic=semantic)
        share = s.score / s.max_score
        ok = band(share) == a["label"]
        base = keyword_baseline(key[a["item"]], a["text"])
        base_ok += band(base) == a["label"]
        for k in ("all", f"lang={a['lang']}", f"kind={a['kind']}", f"label={a['label']}"):
            by[k][0] += ok
            by[k][1] += 1
        if a["kind"] == "stuffing":
            stuffed.append(share)
            stuffed_base.append(base)
        if not ok:
            misses.append((a, s))
            flagged_misses += s.low_confidence
        else:
            flagged_agreements += s.low_confidence
    n = len(answers)
    print(f"\n== {name}: {n} labelled answers ==")
    for k in sorted(by, key=lambda k: (k != "all", k)):
        ok, tot = by[k]
        print(f"  {k:<22} {ok:>4}/{tot:<4} {100 * ok / tot:5.1f}%")
    print(f"  keyword baseline (any key term anywhere, as the old rubric did; same key): {base_ok}/{n} = {100 * base_ok / n:.1f}%")
    if stuffed:
        print(f"  stuffed answers: mean suggested share {100 * statistics.mean(stuffed):.1f}% "
              f"(baseline {100 * statistics.mean(stuffed_base):.1f}%), n={len(stuffed)}")
    print(f"  flagged low-confidence for the grader: {flagged_misses}/{len(misses)} disagreements, "
          f"{flagged_agreements}/{n - len(misses)} agreements")
    for a, s in misses[:show if name != "holdout" else 0]:   # the held-out set stays unread by whoever tunes the key
        print(f"   x {a['item']} [{a['label']}/{a['kind']}/{a['lang']}] got {s.score:g}/{s.max_score:g} "
              f"matched={s.matched_ids} mis={s.misconception_ids} | {a['text'][:110]!r}")
    return {"agreement": by["all"][0] / n if n else None,
            "stuffing": statistics.mean(stuffed) if stuffed else None}


def attacks(key, semantic) -> None:
    from autograders.prose import suggest_notebook
    from autograders.prose.text import HANGUL
    total = sum(i.points for i in key.values())
    for lang in ("en", "ko"):
        cells = {}
        for item in key.values():
            words = []
            for p in item.key_points:
                terms = [t for t in p.claims[0].groups[0]
                         if t.forms and (lang == "ko") == bool(HANGUL.search(t.raw))] or p.claims[0].groups[0]
                words.append(terms[0].raw)
            cells[item.id] = ", ".join(words)
        got = sum(s.score for s in suggest_notebook(cells, key, semantic).values())
        print(f"  one key word per key point ({lang}) in every cell: {got:g}/{total:g} "
              f"= {100 * got / total:.1f}% (issue 11 measured the old rubric at 100%)")
    salad = " ".join(p.claims[0].groups[0][0].raw for item in key.values() for p in item.key_points)
    got = sum(s.score for s in suggest_notebook({i: salad for i in key}, key, semantic).values())
    print(f"  one word salad pasted into every cell: {got:g}/{total:g} = {100 * got / total:.1f}% "
          f"(old rubric: 33.9/35)")


def timing(assignment: str, answers: list[dict], semantic) -> None:
    "Cold: a fresh process (loads the analyser, and the encoder when on); warm: the same notebook again."
    import json
    import subprocess
    right = {}
    for a in answers:
        if a["label"] == "right":
            right.setdefault(a["item"], a["text"])
    code = ("import json, sys, time; t = time.perf_counter(); "
            "from autograders.prose import load_key, suggest_notebook; k = load_key(sys.argv[1]); "
            "nb = json.loads(sys.stdin.read()); suggest_notebook(nb, k); cold = time.perf_counter() - t; "
            "runs = []\nfor n in range(3):\n t = time.perf_counter(); "
            "suggest_notebook({i: v + ' ' * (n + 1) for i, v in nb.items()}, k); runs.append(time.perf_counter() - t)\n"
            "print(json.dumps([cold, min(runs)]))")
    out = subprocess.run([sys.executable, "-c", code, assignment], input=json.dumps(right), text=True,
                         capture_output=True, cwd=ROOT, check=True)
    cold, warm = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  time per notebook ({len(right)} answers): {cold:.2f} s in a fresh process (imports, the analyser"
          f"{' and the encoder' if semantic else ''}), then {warm:.2f} s per notebook")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="ch04_questionnaire")
    ap.add_argument("--no-semantic", action="store_true", help="leave the optional encoder out")
    ap.add_argument("--show", type=int, default=0, help="print the first N disagreements of each set")
    ap.add_argument("--sets", default="dev,dev2,holdout")
    args = ap.parse_args()
    if args.no_semantic:
        os.environ["CH4GRADE_SEMANTIC"] = "0"
    from autograders.prose import load_key
    from autograders.prose import semantic as sem
    key = load_key(args.assignment)
    semantic = sem.for_key(key)
    print(f"ch4grade prose suggestions for {args.assignment}: {len(key)} items; semantic signal: "
          f"{'USE multilingual v3' if semantic else 'off'}")
    results, every = {}, []
    for name in args.sets.split(","):
        answers = load_set(name)
        every += answers
        if answers:
            results[name] = evaluate(name, answers, key, semantic, args.show)
    print("\n== gaming a whole notebook ==")
    attacks(key, semantic)
    timing(args.assignment, every, semantic)
    print("\ntargets: agreement >= 90%, stuffed share <= 10%")
    for name, r in results.items():
        stuffing = "n/a" if r["stuffing"] is None else f"{100 * r['stuffing']:.1f}%"
        print(f"  {name}: agreement {100 * r['agreement']:.1f}%, stuffed share {stuffing}")


if __name__ == "__main__":
    main()
