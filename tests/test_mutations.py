"""The mutation suite (see `mutants.py`): for every autograded item of every assignment, correct answers
written differently get full marks, plausible student bugs lose their own item, and no other item loses
anything; each bug is caught under 50 check seeds (the notebook executed once, its checks re-scored), and
scoring again with the same seed gives byte-identical results (one packed notebook per assignment), for all five
assignments. Every
assignment's blank release scores 0."""
from __future__ import annotations

import pytest

import labtools
import mutants
from autograders.checks import get_assignment

ASSIGNMENTS = ("ch04_pixel_similarity", "ch04_sgd", "ch04_questionnaire", "ch04_learner", "ch04_full_mnist")
SEEDS = list(range(1, 51))


def _packed():
    import tempfile
    from pathlib import Path
    dest = Path(tempfile.mkdtemp(prefix="ch4grade-mutants-"))
    out = []
    for name in ASSIGNMENTS:
        out += [(name, p) for p in mutants.pack(name, mutants.load(name), dest)]
    return out


PACKED = _packed()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_item_has_two_correct_variants_and_three_bugs(name):
    variants = mutants.load(name)
    for item in get_assignment(name).auto_items:
        oks = [v for v in variants if v.item == item.id and v.kind == "ok"]
        bugs = [v for v in variants if v.item == item.id and v.kind == "bug"]
        assert len(oks) >= 2 and len(bugs) >= 3, (item.id, len(oks), len(bugs))


class _Packed:
    """One packed notebook, graded as a test class of its own: the suite runs with `--dist loadscope`, so each
    class is a unit of work pytest-xdist hands to whichever worker is free (one file would run on one worker)."""
    name: str
    packed: mutants.Packed

    @pytest.mark.slow
    def test_one_mistake_costs_one_item_under_50_seeds(self, mnist_dir):
        name, packed = self.name, self.packed
        # scoring twice with one seed shows it byte-identical; once per assignment (its first notebook) is enough
        result, later, reproduced = mutants.graded_under_seeds(packed, name, SEEDS, twice=packed.name.endswith(".0.0"))
        problems = mutants.verdicts(packed, result)
        if not reproduced:
            problems.append(f"scoring again with check seed {SEEDS[0]} did not give byte-identical results")
        for seed, scores in later.items():
            problems += [f"seed {seed}: bug NOT caught: {item} / {packed.bugs[item].title}"
                         for item, (score, top) in scores.items() if score >= top]
        assert not problems, "\n".join(problems)


# the dearest notebooks first, so that the two workers finish together
for _name, _packed_nb in sorted(PACKED, key=lambda np: -ASSIGNMENTS.index(np[0])):
    _cls = "Test_" + _packed_nb.name.replace(".", "_")
    globals()[_cls] = type(_cls, (_Packed,), {"name": _name, "packed": _packed_nb})


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_blank_release_scores_zero(name, mnist_dir):
    path = labtools.released(name)
    text = open(path).read()
    assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
    r = labtools.grade(path)
    assert r.status == "graded" and r.error is None and not r.grader_failure, labtools.describe(r)
    assert r.score == 0 and all(item.score == 0 for item in r.items), labtools.describe(r)
    for item in r.items:
        for c in item.checks or []:
            # a check that could not make sense of what came back is a bug in the check, not the student's
            assert not c.message.startswith(("could not check the answer", "internal")), (item.id, c.name, c.message)
