"The `ch04_learner` assignment unit: its notebook, checks, kernel-side helpers and answer key (this folder)."
from .checks import ASSIGNMENT  # noqa: F401
