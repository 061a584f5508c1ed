"""Rubric suggestions for prose answers: English, Korean, misconceptions, empty answers."""
from __future__ import annotations

import pytest

from autograders.rubric import load_key, normalize, suggest, term_found


@pytest.fixture(scope="module")
def key():
    return load_key("ch04_questionnaire")


def test_english_answer_gets_full_suggestion(key):
    s = suggest("q30_prose", "backward() works out the gradient of the loss with respect to each "
                "parameter and stores it in the parameter's .grad attribute.", key)
    assert s.score == s.max_score == 1
    assert s.matched == ["computes_gradients", "stores_grad"] and s.missed == []
    assert s.misconceptions == [] and s.needs_review


def test_korean_answer_gets_full_suggestion(key):
    s = suggest("q30_prose", "backward()는 역전파로 각 파라미터에 대한 손실의 기울기를 계산해서 "
                "텐서의 .grad 속성에 저장합니다.", key)
    assert s.score == s.max_score
    assert set(s.matched) == {"computes_gradients", "stores_grad"}
    assert s.needs_review


def test_korean_without_spaces_and_with_particles(key):
    # "미니 배치" written without its space, "무작위로" with a particle
    s = suggest("q12", "무작위로 고른 미니배치에서 손실의 기울기를 구하고 반복해서 조금씩 줄인다", key)
    assert s.score == pytest.approx(1.0)


def test_partial_answer_lists_what_is_missing(key):
    s = suggest("q32", "You need the model and the loss function.", key)
    assert s.score == pytest.approx(0.5)
    assert set(s.missed) == {"dls", "opt"}


def test_misconception_costs_points(key):
    s = suggest("q30_prose", "backward returns the gradients of the loss.", key)
    assert "returns_gradients" in s.misconceptions
    assert s.score == pytest.approx(0.0)  # 0.5 for "gradients" minus 0.5 for the misconception
    assert "misconception" in s.note


def test_misconception_in_korean_and_its_negation(key):
    bad = suggest("q29_prose", "@는 데코레이터입니다.", key)
    assert bad.misconceptions == ["decorator"] and bad.score == 0
    good = suggest("q29_prose", "@는 행렬 곱 연산자이고, 데코레이터가 아닙니다.", key)
    assert good.misconceptions == [] and good.score == 1


def test_sqrt_before_mean_is_flagged(key):
    s = suggest("q07_prose", "RMSE takes the square root of each squared difference and then the mean; "
                "L1 averages the absolute differences so negatives do not cancel.", key)
    assert "sqrt_before_mean" in s.misconceptions
    assert s.score < s.max_score


def test_by_hand_misconception(key):
    s = suggest("q19", "Yes, you have to compute the gradients by hand before training.", key)
    assert s.misconceptions == ["by_hand"]
    assert s.score == 0


@pytest.mark.parametrize("text", ["", "   ", "YOUR ANSWER HERE"])
def test_empty_answer_scores_zero(key, text):
    s = suggest("q18", text, key)
    assert s.score == 0 and s.matched == [] and s.missed == ["derivative", "effect_on_loss"]
    assert "empty" in s.note and s.needs_review


def test_english_terms_start_a_word():
    text = normalize("The glossary lists terms")
    assert not term_found("loss", text)
    assert term_found("loss", normalize("a LOSS function"))
    assert term_found("re:\\bc\\b", normalize("runs in C code"))


def test_unknown_item_raises(key):
    with pytest.raises(KeyError):
        suggest("q99", "anything", key)


def test_every_model_answer_gets_full_marks_and_no_flag(key):
    for item_id, entry in key.items():
        s = suggest(item_id, entry["model_answer"], key)
        assert (s.score, s.misconceptions, s.missed) == (s.max_score, [], []), item_id


def test_key_points_match_the_checks_module(key):
    from autograders.checks import get_assignment
    manual = {i.id: i.points for i in get_assignment("ch04_questionnaire").manual_items}
    assert {k: float(v["points"]) for k, v in key.items()} == manual
