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


# ---- the labs' answer keys ------------------------------------------------------------------------------------
LAB_ITEMS = {
    "ch04_pixel_similarity": ["l1_vs_l2", "not_learning"],
    "ch04_sgd": ["why_not_accuracy", "why_relu"],
    "ch04_learner": ["why_weighted"],
    "ch04_full_mnist": ["compare"],
}
LAB_ITEM_PARAMS = [(lab, item) for lab, items in LAB_ITEMS.items() for item in items]

# Korean answers a student might write, each with the key terms of every key point of its item
KOREAN_ANSWERS = {
    "l1_vs_l2": "RMSE가 둘을 다르게 본다. RMSE는 차이를 제곱한 뒤 평균을 내므로 큰 차이 몇 개가 더 크게 반영되어 "
                "그 이미지가 더 멀다고 판단한다. L1은 절댓값의 평균이라 두 이미지의 거리가 같다.",
    "not_learning": "성능을 보고 자동으로 조정되는 가중치가 없다. 이후 장에서는 파라미터와 손실 함수를 두고, "
                    "확률적 경사 하강법이 손실의 기울기로 가중치를 조금씩 개선한다.",
    "why_not_accuracy": "정확도는 예측이 임계값 0.5를 넘을 때만 바뀌므로 가중치를 조금 바꿔도 거의 변하지 않아서 "
                        "기울기가 거의 모든 곳에서 0이다. mnist_loss는 시그모이드를 써서 가중치가 변하면 조금씩 "
                        "변하므로 그 기울기가 어느 방향으로 움직일지 알려 준다.",
    "why_relu": "선형 함수밖에 계산하지 못한다. 두 선형 층을 연속으로 쌓으면 가중치 행렬의 곱인 하나의 선형 층과 "
                "같아지기 때문이다. 그 사이의 비선형 활성화 함수가 있어야 더 복잡한 함수를 표현할 수 있다.",
    "why_weighted": "단순 평균은 모든 배치에 같은 가중치를 주므로 246장짜리 마지막 배치가 256장짜리와 똑같이 "
                    "계산된다. 여기서는 차이가 0.5% 미만으로 아주 작다. 하지만 검증 세트에 비해 배치 크기가 "
                    "크면 배치 수가 적어서 짧은 마지막 배치의 비중이 커진다. 각 배치의 정확도를 이미지 수로 "
                    "가중 평균하면 정확한 값이 나온다.",
    "compare": "평균 이미지 분류기는 4와 9, 3과 5와 8처럼 평균 모양이 겹치는 숫자를 헷갈린다. 평균 이미지는 "
               "흐릿해서 기울어진 숫자는 다른 숫자의 평균에 더 가깝다. 선형 모델은 픽셀마다 가중치를 양수나 "
               "음수로 두어 클래스를 구별하고, 경사 하강법으로 손실을 최소화한다. 신경망은 비선형 활성화 "
               "함수를 더해 더 잘한다.",
}


@pytest.fixture(scope="module")
def lab_keys():
    return {lab: load_key(lab) for lab in LAB_ITEMS}


def test_each_lab_key_covers_its_items(lab_keys):
    for lab, items in LAB_ITEMS.items():
        assert set(lab_keys[lab]) == set(items), lab


@pytest.mark.parametrize("lab,item_id", LAB_ITEM_PARAMS)
def test_lab_model_answer_gets_full_marks(lab_keys, lab, item_id):
    key = lab_keys[lab]
    s = suggest(item_id, key[item_id]["model_answer"], key)
    assert (s.score, s.misconceptions, s.missed) == (s.max_score, [], [])
    assert s.needs_review


@pytest.mark.parametrize("lab,item_id", LAB_ITEM_PARAMS)
@pytest.mark.parametrize("text", ["", "  \n ", "YOUR ANSWER HERE"])
def test_lab_empty_answer_scores_zero(lab_keys, lab, item_id, text):
    key = lab_keys[lab]
    s = suggest(item_id, text, key)
    assert s.score == 0 and s.matched == [] and s.misconceptions == []
    assert s.missed == [p["id"] for p in key[item_id]["key_points"]]
    assert "empty" in s.note


@pytest.mark.parametrize("lab,item_id", LAB_ITEM_PARAMS)
def test_lab_korean_answer_gets_credit(lab_keys, lab, item_id):
    key = lab_keys[lab]
    s = suggest(item_id, KOREAN_ANSWERS[item_id], key)
    assert s.misconceptions == [] and s.missed == [], s.missed
    assert s.score == s.max_score > 0


@pytest.mark.parametrize("lab,item_id", LAB_ITEM_PARAMS)
def test_lab_key_entries_are_complete(lab_keys, lab, item_id):
    entry = lab_keys[lab][item_id]
    assert entry["prompt"].strip() and entry["model_answer"].strip()
    assert sum(p["points"] for p in entry["key_points"]) == pytest.approx(entry["points"])
    for p in entry["key_points"]:
        assert p["terms"]["en"] and p["terms"]["ko"], p["id"]
        assert any("\uac00" <= ch <= "\ud7a3" for t in p["terms"]["ko"] for ch in t), p["id"]
    assert 1 <= len(entry["misconceptions"]) <= 3
    assert all(m["cost"] > 0 for m in entry["misconceptions"])


@pytest.mark.parametrize("lab", list(LAB_ITEMS))
def test_lab_model_answers_are_the_notebooks(lab_keys, lab):
    import json
    from pathlib import Path
    nb = json.loads((Path(__file__).resolve().parents[1] / "autograders" / "assignments" / lab / f"{lab}.ipynb")
                    .read_text(encoding="utf-8"))
    seen = set()
    for c in nb["cells"]:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if c["cell_type"] == "markdown" and meta.get("solution") and meta.get("grade_id") in lab_keys[lab]:
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            assert src.strip() == lab_keys[lab][meta["grade_id"]]["model_answer"].strip(), meta["grade_id"]
            seen.add(meta["grade_id"])
    assert seen == set(lab_keys[lab])


def test_lab_misconceptions_are_flagged(lab_keys):
    s = suggest("why_relu", "Without the ReLU the net couldn't learn anything, it would only be linear.",
                lab_keys["ch04_sgd"])
    assert s.misconceptions == ["cannot_train"] and s.score < s.max_score
    s = suggest("why_weighted", "마지막 배치를 버리면 된다. 모든 배치에 같은 가중치를 주기 때문이다.",
                lab_keys["ch04_learner"])
    assert s.misconceptions == ["drop_last_batch"] and s.score == pytest.approx(0.1)
    s = suggest("not_learning", "It is not machine learning because its accuracy is too low.",
                lab_keys["ch04_pixel_similarity"])
    assert s.misconceptions == ["accuracy_too_low"] and s.score == 0


def test_every_manual_item_of_every_assignment_has_a_key_entry():
    from autograders.checks import available_assignments, get_assignment
    for name in available_assignments():
        manual = {i.id: float(i.points) for i in get_assignment(name).manual_items}
        key = load_key(name)
        assert set(key) == set(manual), name
        for item_id, points in manual.items():
            assert float(key[item_id]["points"]) == points, (name, item_id)
