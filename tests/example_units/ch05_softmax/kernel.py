"""Kernel-side helpers of `ch05_softmax`: the reference pieces a check gives the student's code."""


def softmax(x):
    return x.exp() / x.exp().sum(-1, keepdim=True)
