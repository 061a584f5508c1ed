"""Suggested scores for prose answers, in English, Korean or both, for graders to confirm.

    from autograders.prose import load_key, suggest_notebook
    key = load_key("ch04_questionnaire")
    for s in suggest_notebook({"q30_prose": "backward()는 기울기를 계산해서 .grad에 저장한다"}, key).values():
        s.score, s.max_score, s.matched, s.missed, s.misconceptions, s.confidence

text.py (tokens, languages) -> clauses.py (statements, negation, questions) -> key.py (the answer key's
claims) -> match.py (claims found in clauses) -> gaming.py (pasted text, word salad) -> suggest.py
(score, evidence, confidence; semantic.py's optional second opinion).
"""
from .key import DEFAULT_ASSIGNMENT, AnswerKeyError, load_key
from .suggest import LOW_CONFIDENCE, Suggestion, suggest, suggest_notebook
from .text import normalize

__all__ = ["DEFAULT_ASSIGNMENT", "AnswerKeyError", "LOW_CONFIDENCE", "Suggestion", "load_key", "normalize",
           "suggest", "suggest_notebook"]
