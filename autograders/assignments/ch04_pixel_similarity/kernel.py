"""Kernel-side helpers of `ch04_pixel_similarity`: run in the student's kernel (torch, the standard library and
`autograders.checks.kernel_common`, whose text is put in place of its import), bound as `ref` in
the blocks of checks declared with `given` (see `autograders/checks/spec.py`).

They stand in for an earlier item's answer, so that a mistake there cannot cost a later item: the chapter's
L1 distance, an `is_3` of the grader's (a grader-drawn scoring of the pixels), a counting wrapper
(a vectorised `is_3` measures two distances for a whole stack; a Python loop measures two per image), and
`run_cell` to run an answer cell again with such pieces in place. A check of an item receives this module
without the definitions that item's answer or a later one defines (`Assignment.kernel_for`), so nothing here
refers to another definition at import time.
"""

from autograders.checks.kernel_common import run_cell, unpack  # noqa: F401  (inlined in the kernel)


def mnist_distance(a, b):
    "The chapter's L1 distance: the mean absolute difference over the last two axes, broadcasting."
    return (a - b).abs().mean((-1, -2))


def scoring_is_3(weights, threshold):
    "An `is_3` that is not the chapter's: True where a weighted sum of the pixels is above `threshold`."
    def is_3(x):
        return (x.float() * weights).sum((-1, -2)) > threshold
    return is_3


class Counting:
    "`fn`, counting its calls (in `calls`)."

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def images(packed):
    "Images sent by the grader as the float images in [0, 1] the notebook works on."
    return unpack(packed).float() / 255
