"""A prose answer as tokens to match on, and the language(s) it is written in.

English words are lower-cased and lightly stemmed ("computes", "computed", "computing" -> "comput";
"initialize" and "initialise" alike). Korean goes through kiwipiepy's morphological analyser, whose model
ships in its wheel (no download): "가중치를" gives 가중/NNG 치/XSN 를/JKO, particles and endings are
dropped, so a key term matches whatever particle or ending the student attaches. Mixed answers
("gradients를 반환") give English tokens for the Latin words and morphemes for the Korean.

Key terms go through the same `tokens()` as answers, so what matches is decided in one place.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[a-z][a-z0-9_]*|[0-9]+(?:\.[0-9]+)?|@")
# Korean morphemes that carry content; particles (J*), endings (E*), punctuation (S*) are dropped
KO_CONTENT = {"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "VX", "VCN", "MM", "MAG", "MAJ", "XR", "XSN",
              "XPN", "XSV", "XSA", "XSM", "SH", "IC", "VV-I", "VA-I", "VX-I", "VV-R", "VA-R", "VX-R"}
ARTICLES = {"a", "an", "the"}
_IRREGULAR = {"matrices": "matrix", "bias": "bias", "biases": "bias", "canvas": "canvas", "indices": "index", "axes": "axis", "children": "child", "better": "good",
              "best": "good", "larger": "large", "bigger": "big", "smaller": "small", "faster": "fast"}


@dataclass(frozen=True)
class Token:
    form: str    # stemmed English word, number, '@', or a Korean morpheme
    tag: str     # 'en', 'num', 'sym', or the analyser's tag (NNG, VV, ...)
    start: int   # character offset in the normalised text

    @property
    def korean(self) -> bool:
        return self.tag not in ("en", "num", "sym")


# Cyrillic and Greek letters that look Latin ("rеturns" with a Cyrillic е hides a word from the key)
HOMOGLYPHS = str.maketrans("аеорсхуікјѕԁһɡοαεντρκιυ", "aeopcxyikjsdhgoaevtpkiu")
MIXED_SCRIPT = re.compile(r"[a-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-z]")


# markdown and HTML that a grader never sees rendered: comments, struck-out text
HIDDEN_MARKUP = re.compile(r"<!--.*?(?:-->|$)|~~.*?~~|<(s|del|strike)>.*?</\1>", re.S)


def disguised(text: str) -> bool:
    """Whether the text hides something: format characters (zero-width space, soft hyphen), look-alike
    letters in a Latin word, or text the rendered notebook does not show (HTML comments, struck-out text)."""
    t = (text or "").lower()
    return any(unicodedata.category(ch) == "Cf" for ch in t) or bool(MIXED_SCRIPT.search(t)) \
        or bool(HIDDEN_MARKUP.search(t))


def normalize(text: str) -> str:
    """NFKC (full-width forms, compatibility jamo), lower case, format characters dropped, look-alike
    Cyrillic/Greek letters read as Latin, unified quotes and dashes; keeps line breaks."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = HIDDEN_MARKUP.sub(" ", text)          # what the grader does not see rendered is not the answer
    text = re.sub(r"</?[a-z][a-z0-9]*(?:\s[^<>\n]{0,80})?/?>", " ", text)     # HTML tags (their text stays)
    # a line wrapped inside a sentence is one line (markdown soft wrap); a bullet or a finished sentence is not
    text = re.sub(r"(?<=[^\s.!?;:다요음함임됨])[ \t]*\n(?![ \t]*(?:[-•·>*+]|\d+[.)])\s)(?=[ \t]*\S)", " ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if MIXED_SCRIPT.search(text):
        text = text.translate(HOMOGLYPHS)
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "−": "-", "–": "-",
                                         "—": "-", "`": "", "*": " ", "#": " "}))
    text = re.sub(r"n't\b", " not", text.replace("cannot", "can not").replace("won't", "will not"))
    text = re.sub(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|ca|wo)nt\b", r"\1 not", text)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r" ?\n[ \n]*", "\n", text).strip()


def stem(word: str) -> str:
    "A light English stemmer: enough that a key term matches its plural, past and -ing forms."
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    w = word
    if not w.isalpha() or len(w) <= 3:
        return w
    w = w.replace("iz", "is")
    for suffix in ("ations", "ation", "ying", "ings", "ing", "edly", "ied", "ed", "ies", "es", "s", "ly"):
        if not w.endswith(suffix) or len(w) - len(suffix) < 3:
            continue
        if (suffix == "ed" and w.endswith("eed")) or (suffix == "ly" and w.endswith("ply")):   # speed; apply
            break
        if suffix == "s" and w[-2] in "sui":          # loss, bias, axis: not plurals
            break
        if suffix == "es" and not re.search(r"(s|x|z|ch|sh)es$", w):
            continue                                  # "computes": strip just the s
        w = w[: -len(suffix)] + ("y" if suffix in ("ies", "ied", "ying") else "")
        break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@functools.lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi
    return Kiwi()


@functools.lru_cache(maxsize=4096)
def _morphemes(text: str) -> tuple:
    "kiwipiepy's analysis of a text, once per text: content tokens and clause analysis both read it."
    return tuple(_kiwi().tokenize(text)) if HANGUL.search(text) else ()


def tokens(text: str) -> list[Token]:
    "The content tokens of an already normalised text, in order."
    out = [Token(stem(m.group()) if m.group()[0].isalpha() else m.group(),
                 "en" if m.group()[0].isalpha() else ("sym" if m.group() == "@" else "num"), m.start())
           for m in _LATIN.finditer(text) if m.group() not in ARTICLES]
    korean = [Token(t.form, t.tag, t.start) for t in _morphemes(text)
              if t.tag in KO_CONTENT and HANGUL.search(text[t.start: t.start + t.len])]
    if korean:
        out = sorted(out + korean, key=lambda t: t.start)
    return out


def korean_tokens_full(text: str):
    "Every morpheme of a Korean text, particles and endings included (for clause and question analysis)."
    return _morphemes(text)


def languages(text: str) -> list[str]:
    "['ko'], ['en'] or ['ko', 'en'] (mixed): what a grader reading the answer sees."
    hangul = len(HANGUL.findall(text))
    latin_words = [w for w in re.findall(r"[A-Za-z]{2,}", text)]
    latin = sum(len(w) for w in latin_words)
    if not hangul and not latin:
        return []
    if not hangul:
        return ["en"]
    # Korean text quoting a few English terms is still mixed: the grader reads both
    return ["ko", "en"] if len(latin_words) >= 1 and latin >= 2 else ["ko"]
