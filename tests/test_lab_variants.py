"""Wrong-but-plausible answers to the two labs: each edits ONE answer cell of the instructor's notebook and
must lose exactly the items listed (every other item keeps the score the source notebook gets).

Why the lists are what they are:
- a wrong distance or a wrong RMSE is caught where it is written; `is_3` and the accuracies are judged
  against the student's own distance, so they keep their points;
- a training loop that never zeroes gradients (`train_epoch`) or an optimizer whose `zero_grad` does nothing
  fails its own unit checks, and the model it trained in the notebook does not learn (its outcome item);
- accuracy used as the loss (rounded sigmoid: the loss is 1 - accuracy, whose gradient is zero) fails the
  `mnist_loss` checks, and no model trained with it learns: `train_linear`, `train_model`, `learner` and
  `sequential_net` lose their outcome checks, while `calc_grad`, `train_epoch`, `basic_optim`... keep theirs;
- a label list one item short silently makes `zip` drop an image: only `datasets` notices.
"""
from __future__ import annotations

import pytest

from labtools import describe, grade, graded_source, scores, variant

VARIANTS = {
    "l2_distance": ("ch04_pixel_similarity", "mnist_distance",
                    "return (a-b).abs().mean((-1,-2))", "return ((a-b)**2).mean((-1,-2)).sqrt()",
                    {"mnist_distance"}),
    "sqrt_before_mean": ("ch04_pixel_similarity", "rmse",
                         "return ((a-b)**2).mean((-1,-2)).sqrt()", "return ((a-b)**2).sqrt().mean((-1,-2))",
                         {"rmse"}),
    "train_epoch_no_zero_grad": ("ch04_sgd", "train_epoch",
                                 "            p.data -= p.grad*lr\n            p.grad.zero_()\n",
                                 "            p.data -= p.grad*lr\n",
                                 {"train_epoch", "train_linear"}),
    "basic_optim_zero_grad_noop": ("ch04_sgd", "basic_optim",
                                   "for p in self.params: p.grad = None", "pass",
                                   {"basic_optim", "train_model"}),
    "accuracy_as_loss": ("ch04_sgd", "mnist_loss",
                         "predictions = predictions.sigmoid()\n", "predictions = predictions.sigmoid().round()\n",
                         {"mnist_loss", "train_linear", "train_model", "learner", "sequential_net"}),
    "labels_one_short": ("ch04_sgd", "datasets",
                         "[0]*len(sevens)", "[0]*(len(sevens)-1)",
                         {"datasets"}),
}


@pytest.mark.slow
@pytest.mark.parametrize("variant_name", list(VARIANTS))
def test_variant_loses_exactly_the_intended_items(variant_name, mnist_dir):
    name, grade_id, old, new, lost = VARIANTS[variant_name]
    base = graded_source(name)
    assert base.status == "graded", describe(base)
    r = grade(variant(name, grade_id, old, new))
    assert r.status == "graded", describe(r)
    before, after = scores(base), scores(r)
    assert set(after) == set(before)
    assert lost <= set(before), lost - set(before)
    dropped = {i for i in before if after[i] < before[i]}
    changed_otherwise = {i: (before[i], after[i]) for i in before if i not in lost and after[i] != before[i]}
    assert dropped == lost and not changed_otherwise, (
        f"expected to lose {sorted(lost)}, lost {sorted(dropped)}; other changes {changed_otherwise}\n{describe(r)}")
