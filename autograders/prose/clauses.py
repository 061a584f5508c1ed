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
EN_NEGATORS = {"not", "no", "never", "nothing", "neither", "nor", "nobody", "fail", "refus", "hardly",
               "barely", "seldom", "rarely"}
_DENYING_START = re.compile(r"(?:instead of|rather than)\b")          # "subtract it instead of adding it"
_KO_LITOTES = re.compile(r"(?:지 ?않|없)(?:으면|다면|고서는) ?안 ?(?:되|돼|됨|된)|지 ?않을 수 ?(?:가 )?없")
_COPULAS = {"is", "are", "was", "were", "be", "been", "being", "am"}
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
_KO_QUESTION_ENDINGS = ("던가", "던가요", "까", "까요", "나요", "니", "냐", "는가", "ᆫ가", "ᆫ가요", "가요", "는지요", "ᆯ까", "ᆯ까요",
                        "을까", "을까요", "ᆸ니까", "습니까", "려나", "는지", "ᆫ지", "을지", "ᆯ지")
# a sentence that asserts nothing: a question without its "?", the task read back, hedged both ways,
# wondered, someone else's view, or a statement framed as false ("It is a myth that ...")
_HEDGE = re.compile(
    r"^(?:do|does|did|is|are|was|were|can|could|would|should|will|has|have|shall|may|might) "
    r"(?:it|they|we|you|i|he|she|this|that|these|those|there|backward|sgd|pytorch|one)\b|"
    r"^(?:how|what|why|which|when|where|who) (?:do|does|did|is|are|can|could|would|should|will)\b|"
    r"^(?:explain|describe|discuss|define|write|todo|answer)\b|\bthe question (?:asks|is)\b|"
    r"\bi (?:want to know|would like to know|am curious|'m curious|ask(?:ed)? (?:whether|if))\b|"
    r"(?<!whether )\bor (?:maybe |perhaps )?not\b|\bi wonder\b|\bsome (?:people )?(?:say|think|claim)\b|\bwho knows\b|"
    r"\bi guess\b|\bmaybe\b.*\bmaybe\b|"
    r"\b(?:it is|it's|this is) (?:a myth|false|untrue|wrong|incorrect|a misconception|not the case|not true) that\b|"
    r"\b(?:wrongly|falsely|mistakenly) (?:think|believe|say|claim|assume)|^(?:false|wrong|not true|myth|wrong answer) ?[:-]|"
    r"\((?:false|wrong|not true)\)|\bsaid no one\b|"
    r"(?:설명|서술)하(?:시오|세요|라)|지도 모르|는지 모르|(?:는지|ᆫ지|은지|을지|인지) ?(?:궁금|알고 싶)|"
    r"(?:다|라)고들? (?:하는데|하지만|배웠지만|들었지만)|(?:다는|라는) 사람도|(?:했|였)으면 좋겠|인지 아닌지|지 아닌지|"
    r"(?:다는|라는|는|ᆫ다는) (?:것은|건|말은|생각은) (?:오해|틀|거짓|잘못)")
# a short sentence that takes back what came before it ("Everything I wrote above is wrong.", "Nope.")
_RETRACT = re.compile(
    r"(?=.*\b(?:wrong|false|untrue|joke|joking|kidding|nonsense|a lie)\b)"
    r"(?=.*\b(?:above|wrote|written|said|none of|everything|all of (?:this|that|it)|(?:that|this)(?:'s| is| was))\b)|"
    r"^(?:just kidding|jk|lol jk|i am joking|i'm joking|not|nope)$|"
    r"(?=.*(?:거짓|틀렸|틀린|농담|아무 말))(?=.*(?:위|앞|지금까지|이상|모두|전부|다 ))")
RETRACT_WORDS = 8
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
    predicate: str = ""            # strong | copula | weak | "" (see `_predicate`)
    retracts: bool = False         # "Actually that is wrong.": takes back the sentences before it
    mean_piece: float = 0.0        # tokens per piece between separators (0 without separators; see `_pieces`)

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
    """"strong": a verb (an auxiliary or modal, a participle, "to" + verb, a common verb with its object,
    a Korean verb or adjective with its ending); "copula": only "is"/"are", a pronoun subject or Korean
    이다 ("It is distance.", "거리이다"); "weak": only a word that may be a verb or a noun ("step", "sum");
    "": none."""
    words = re.findall(r"[a-z']+", sent)
    if any(w in _AUX - _COPULAS for w in words) or any(w.endswith("ed") and len(w) > 4 for w in words):
        return "strong"
    if any(stem(w) in _VERBS for w in re.findall(r"\bto ([a-z]+)", sent)):       # "to update the weights"
        return "strong"
    copula = any(w in _COPULAS or w in _SUBJECTS for w in words)
    for prev, t in zip(ktoks, ktoks[1:]):
        if t.tag in ("EF", "EC", "ETN") and prev.tag in _KO_VERBAL:
            if prev.tag != "VCP":
                return "strong"
            copula = True
    determiners = any(w in _DETERMINERS for w in words)
    if determiners and any(t.tag == "en" and t.form in _VERBS for t in toks):   # "(it) squares the differences"
        return "strong"
    if words and words[0].endswith("s") and stem(words[0]) in _VERBS:      # "Computes gradients via backprop"
        return "strong"
    if any(t.tag == "en" and t.form in _VERBS for t in toks[1:]):
        return "strong" if copula else "weak"
    return "copula" if copula else ""


def _pieces(sent: str) -> tuple[int, float]:
    "How many pieces the separators cut a sentence into, and their mean number of tokens (about 1 for a list)."
    pieces = [p for p in _SEPARATORS.split(sent) if p.strip()]
    return len(pieces), (sum(len(tokens(p)) for p in pieces) / len(pieces) if pieces else 0.0)


def _negated(clause_text: str, toks: list[Token], ktoks) -> bool:
    "Any negator denies the clause (two of them deny two verbs, not each other), save Korean litotes (-지 않으면 안 된다)."
    n = sum(1 for t in toks if t.tag == "en" and t.form in EN_NEGATORS)
    n += sum(1 for t, nxt in zip(ktoks, list(ktoks[1:]) + [None]) if (t.form, t.tag) in _KO_NEGATORS
             and not (nxt is not None and nxt.tag == "ETM"))    # 학습되지 않은 값: denies the modifier only
    n -= 2 * len(_KO_LITOTES.findall(clause_text)) + len(re.findall(r"\bnot only\b", clause_text))
    return n > 0 or bool(_DENYING_START.match(clause_text.lstrip(" ,;")))


def _clause_cuts(sent_text: str, base: int, ktoks) -> list[int]:
    cuts = {base + m.start() for m in _EN_SPLIT.finditer(sent_text) if m.start() > 0}
    for t, nxt in zip(ktoks, ktoks[1:]):
        if t.tag == "EC" and t.form not in _KO_NO_SPLIT_EC and not nxt.tag.startswith("VX") \
                and not (nxt.form in ("안", "못") and nxt.tag == "MAG"):          # -지 않으면 안 된다: one clause
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
        question = sent.rstrip().endswith("?") or _korean_ends_question(kt) or bool(_HEDGE.search(sent))
        if sentences and len(sent.split()) <= RETRACT_WORDS and _RETRACT.search(sent):    # "... Actually that is wrong.": nothing before it is asserted
            for earlier in sentences:
                earlier.kind = "question"
            sentences.append(Sentence(sent, s, e, "question", 0, [Clause(s, e, [], False)], retracts=True))
            continue
        seps = len(_SEPARATORS.findall(sent))
        n_pieces, piece = _pieces(sent) if seps else (1, 0.0)
        pred = _predicate(sent, stoks, kt)
        if question:
            kind = "question"
        elif (n_pieces >= 3 and piece <= 2) or (seps >= 2 and pred not in ("strong", "copula") and piece <= 4):
            kind = "list"
        elif pred or _FORMULA.search(sent):
            kind = "statement"
        else:
            related = any(w in _EN_RELATORS for w in re.findall(r"[a-z]+", sent)) or any(
                (t.tag.startswith("J") and t.tag != "JC") or t.tag == "ETM" for t in kt)
            kind = "phrase" if related else "terms"
        sentence = Sentence(sent, s, e, kind, seps, predicate=pred, mean_piece=piece)
        bounds = [s] + [c for c in _clause_cuts(text[s:e], s, kt) if s < c < e] + [e]
        for cs, ce in zip(bounds, bounds[1:]):
            ctoks = [t for t in stoks if cs <= t.start < ce]
            ck = [t for t in kt if cs <= t.start < ce]
            if not ctoks and not ck and not re.search(r"\w", text[cs:ce]):
                continue                                    # ", " between two connectives
            sentence.clauses.append(Clause(cs, ce, ctoks, _negated(text[cs:ce], ctoks, ck)))
        if not sentence.clauses:
            sentence.clauses.append(Clause(s, e, [], False))
        sentences.append(sentence)
    return Analysis(text, sentences)
