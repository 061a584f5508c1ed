"""Where an answer states a claim of the key: term lookup in clauses, with the clause's polarity.

A claim is found in a sentence when its anchor term occurs in a clause whose negation is what the claim
wants and each of its other groups occurs in that clause or a neighbouring one. What matched is returned as
the key's own words, so the grader sees why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clauses import Analysis, Clause, Sentence
from .key import Claim, Term


@dataclass
class Found:
    sentence: Sentence
    words: list[str]


def has_run(forms: tuple[str, ...], seq: list[str]) -> bool:
    "Whether `forms` occur one after another in `seq`."
    n = len(forms)
    return n > 0 and any(seq[i:i + n] == list(forms) for i in range(len(seq) - n + 1))


def term_in(term: Term, clause: Clause, text: str) -> bool:
    "Whether `term` occurs in `clause` of the normalised answer `text`."
    span = text[clause.start:clause.end]
    if term.regex is not None:
        return term.regex.search(span) is not None
    if has_run(term.forms, [t.form for t in clause.tokens]):
        return True
    return bool(term.surface) and term.surface in span.replace(" ", "")


def _first(group: list[Term], clauses: list[Clause], text: str) -> str | None:
    "The first term of `group` found in `clauses`: the key's word, or for a regex the answer's own words."
    for term in group:
        for c in clauses:
            if term.regex is not None:
                m = term.regex.search(text[c.start:c.end])
                if m:
                    return m.group().strip() or term.raw
            elif term_in(term, c, text):
                return term.raw
    return None


# the writer talking about the answer itself ("I did not copy this", "I don't know this part")
ABOUT_THE_ANSWER = re.compile(r"(?=.*(?:\b(?:i|i'm|my|me)\b|(?:^|\s)(?:저는|제가|나는|내가|저도|나도)))"
                              r"(?=.*(?:\banswer|\bquestion|\bcop(?:y|ied)|\blearn|\bknow|\bunderstand|\bsure\b|"
                              r"\bremember|\bthis part|답|문제|모르|몰라|배우|배운))")


def find_claim(claim: Claim, sentence: Sentence, text: str) -> tuple[list[str] | None, bool]:
    """(the words that state `claim` in `sentence`, or None; whether its anchor was there with the wrong
    polarity, e.g. denied where the key wants it asserted).

    The claim's other terms must be in the anchor's clause or a neighbouring one; a claim that must be
    denied needs them in the denied clause itself, and the writer talking about the answer ("I did not
    copy this") denies nothing the key asks about."""
    wrong_polarity = False
    clauses = sentence.clauses
    for n, clause in enumerate(clauses):
        anchor = _first(claim.groups[0], [clause], text)
        if anchor is None:
            continue
        if claim.negated is not None and clause.negated != claim.negated:
            wrong_polarity = True
            continue
        if claim.negated and ABOUT_THE_ANSWER.search(text[clause.start:clause.end]):
            continue
        near = [clause] if claim.negated else clauses[max(n - 1, 0): n + 2]
        words = [anchor]
        for group in claim.groups[1:]:
            w = _first(group, near, text)
            if w is None:
                break
            words.append(w)
        else:
            return words, wrong_polarity
    return None, wrong_polarity


def find_any(claims: list[Claim], analysis: Analysis, kinds: tuple[str, ...]) -> tuple[list[Found], bool]:
    "Every sentence of a kind in `kinds` that states one of `claims`; and whether some anchor had the wrong polarity."
    found, wrong = [], False
    for sentence in analysis.sentences:
        if sentence.kind not in kinds:
            continue
        for claim in claims:
            words, w = find_claim(claim, sentence, analysis.text)
            wrong |= w
            if words:
                found.append(Found(sentence, words))
                break
    return found, wrong


def coverage(toks: list, forms: set[str]) -> float:
    "The share of `toks` whose form is one of `forms` (near 1 for a list of key words); 0 for no tokens."
    return sum(t.form in forms for t in toks) / len(toks) if toks else 0.0
