"""An answer cut into sentences and clauses, each knowing whether it asserts, denies or asks.

A key point counts only where the answer *states* it, so the analysis tells apart:
- a **statement**: a sentence with a predicate (a Korean verb or adjective with its ending; in English an
  auxiliary, a pronoun subject, a past participle or a common verb), or a formula (`=`, `->`);
- a **phrase**: no predicate, but words that relate its terms ("one number per pixel", "평균 이미지와의 거리");
- **terms**: bare key words with nothing relating them ("Matrix multiplication", "gradient .grad");
- a **list**: three or more items separated by commas, slashes, "and" or line breaks, with no predicate;
- a **question** ("Is it the derivative?", "미분인가요?"), which asserts nothing.

Clauses are cut at commas, colons, dashes and connectives ("but", "because", "so"; Korean connective
endings such as -고, -지만, -므로, -아서), so that a negation ("not", "no", 않다, 없다, 아니다, 못, 안)
reaches only its own clause: "PyTorch computes them, so you do not have to" denies only the second part.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import Token, korean_tokens_full, normalize, stem, tokens

_BULLET = re.compile(r"^\s*(?:[-•·>]|\d+[.)]|[a-z][.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|(?<=[다요음함임됨])\.(?=\S)")
_EN_SPLIT = re.compile(r",|:|\s-\s|\b(?:but|because|since|so|whereas|while|although|though|however|instead|unless|"
                       r"otherwise|which|rather than)\b|\band (?=(?:you|it|we|they|this|that|there|i|pytorch|then)\b)")
_SEPARATORS = re.compile(r",|/|·|、|\||\n|\band\b|\bor\b")
_FORMULA = re.compile(r"=|->|→|=>")
EN_NEGATORS = {"not", "no", "never", "none", "nothing", "neither", "nor", "nobody"}
_AUX = {"is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "has", "have", "had",
        "can", "could", "will", "would", "should", "must", "may", "might", "shall", "need", "needs"}
_DETERMINERS = {"the", "a", "an", "them", "its", "their", "our", "your", "his", "her", "each", "every"}
_SUBJECTS = {"it", "they", "we", "you", "i", "this", "that", "which", "who", "he", "she", "there"}
_VERBS = {stem(v) for v in """compute calculate store return mean make give use take hold keep apply add subtract
    multiply change move go become help let allow tell measure need work learn update create build turn replace
    set put get find predict classify compare pick choose split shuffle load convert reshape flatten squash
    map output produce contain represent accumulate sum reset clear call run train fit optimise minimise reduce
    increase decrease overshoot diverge converge jump step improve flip cross stay remain show say depend
    matter separate expand copy avoid prevent lead cause enable look see check evaluate generalise memorise
    overfit iterate loop repeat pass stack combine zip pair group drop ignore clip cut wrap treat act behave
    decide assign label divide sort estimate approximate differentiate derive backpropagate propagate bounce
    miss skip slow speed stretch broadcast index select sample draw feed start end stop finish initialise
    fill multiply transform squeeze filter append iterate yield""".split()}
_KO_VERBAL = {"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA", "EP", "VV-I", "VA-I", "VX-I", "VV-R", "VA-R", "VX-R"}
_KO_NEGATORS = {("않", "VX"), ("않", "VV"), ("없", "VA"), ("아니", "VCN"), ("못", "MAG"), ("못", "VX"),
                ("안", "MAG"), ("말", "VX"), ("불", "XPN"), ("아니요", "IC"), ("아뇨", "IC"), ("아니", "IC")}
_KO_QUESTION_ENDINGS = ("까", "까요", "나요", "니", "냐", "는가", "ᆫ가", "ᆫ가요", "가요", "는지요")
_EN_RELATORS = {"of", "per", "for", "to", "with", "by", "in", "on", "from", "between", "than", "into", "each",
                "every", "at", "as", "over", "under", "across", "through", "without"}
_KO_NO_SPLIT_EC = {"게", "지", "어야", "아야", "야", "어", "아", "도록", "기"}


@dataclass
class Clause:
    start: int
    end: int
    tokens: list[Token]
    negated: bool


@dataclass
class Sentence:
    text: str
    start: int
    end: int
    kind: str                      # statement | phrase | terms | list | question
    separators: int
    clauses: list[Clause] = field(default_factory=list)

    @property
    def tokens(self) -> list[Token]:
        return [t for c in self.clauses for t in c.tokens]


@dataclass
class Analysis:
    text: str                      # normalised
    sentences: list[Sentence]

    @property
    def tokens(self) -> list[Token]:
        return [t for s in self.sentences for t in s.tokens]


def _sentence_spans(text: str):
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        m = _BULLET.match(line.group())
        if m:
            start += m.end()
        pos = start
        for cut in _SENTENCE_END.finditer(text, start, line.end()):
            yield pos, cut.start()
            pos = cut.end()
        yield pos, line.end()


def _korean_ends_question(ktoks) -> bool:
    efs = [t for t in ktoks if t.tag == "EF"]
    return bool(efs) and efs[-1].form in _KO_QUESTION_ENDINGS


def _predicate(sent: str, toks: list[Token], ktoks) -> str:
    """"strong" (an auxiliary, a pronoun subject, a participle, "to" + verb, a Korean predicate ending),
    "weak" (only a word that may be a verb or a noun: "step", "train", "sum"), or "" (none)."""
    words = re.findall(r"[a-z']+", sent)
    if any(w in _AUX or w in _SUBJECTS for w in words) or any(w.endswith("ed") and len(w) > 4 for w in words):
        return "strong"
    if re.search(r"\bto [a-z]", sent):
        return "strong"
    for prev, t in zip(ktoks, ktoks[1:]):
        if t.tag in ("EF", "EC", "ETN") and prev.tag in _KO_VERBAL:
            return "strong"
    if any(t.tag == "en" and t.form in _VERBS for t in toks[1:]):   # "squares the differences, averages them"
        return "strong" if any(w in _DETERMINERS for w in words) else "weak"
    return ""


def _segments_short(sent: str) -> bool:
    "Whether the separated pieces of a sentence are one or two words each (a list of terms)."
    pieces = [p for p in _SEPARATORS.split(sent) if p.strip()]
    return len(pieces) >= 3 and sum(len(tokens(p)) for p in pieces) / len(pieces) <= 2


def _negated(clause_text: str, toks: list[Token], ktoks) -> bool:
    n = sum(1 for t in toks if t.tag == "en" and t.form in EN_NEGATORS)
    n += sum(1 for t in ktoks if (t.form, t.tag) in _KO_NEGATORS)
    return n % 2 == 1


def _clause_cuts(sent_text: str, base: int, ktoks) -> list[int]:
    cuts = {base + m.start() for m in _EN_SPLIT.finditer(sent_text) if m.start() > 0}
    for t, nxt in zip(ktoks, ktoks[1:]):
        if t.tag == "EC" and t.form not in _KO_NO_SPLIT_EC and not nxt.tag.startswith("VX"):
            cuts.add(t.start + t.len)
    return sorted(cuts)


def analyse(answer: str) -> Analysis:
    "Sentences and clauses of one prose answer (normalised first)."
    text = normalize(answer)
    toks = tokens(text)
    ktoks_all = list(korean_tokens_full(text))
    sentences = []
    for s, e in _sentence_spans(text):
        sent = text[s:e].strip(" .")
        if not sent:
            continue
        e = s + len(text[s:e].rstrip(" ."))
        stoks = [t for t in toks if s <= t.start < e]
        kt = [t for t in ktoks_all if s <= t.start < e]
        question = sent.rstrip().endswith("?") or _korean_ends_question(kt)
        seps = len(_SEPARATORS.findall(sent))
        if question:
            kind = "question"
        elif _segments_short(sent) or (seps >= 2 and _predicate(sent, stoks, kt) != "strong"):
            kind = "list"
        elif _predicate(sent, stoks, kt) or _FORMULA.search(sent):
            kind = "statement"
        else:
            related = any(w in _EN_RELATORS for w in re.findall(r"[a-z]+", sent)) or any(
                (t.tag.startswith("J") and t.tag != "JC") or t.tag == "ETM" for t in kt)
            kind = "phrase" if related else "terms"
        sentence = Sentence(sent, s, e, kind, seps)
        bounds = [s] + [c for c in _clause_cuts(text[s:e], s, kt) if s < c < e] + [e]
        for cs, ce in zip(bounds, bounds[1:]):
            ctoks = [t for t in stoks if cs <= t.start < ce]
            ck = [t for t in kt if cs <= t.start < ce]
            sentence.clauses.append(Clause(cs, ce, ctoks, _negated(text[cs:ce], ctoks, ck)))
        sentences.append(sentence)
    return Analysis(text, sentences)
