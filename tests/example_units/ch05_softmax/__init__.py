"""An example assignment unit from another package (chapter 5's softmax and negative log likelihood): how an
instructor adds an assignment with no change to the engine. Registered by the entry point in
`ch05_softmax-0.1.dist-info/entry_points.txt` (an installed package declares it in its pyproject.toml:
`[project.entry-points."ch4grade.assignments"] ch05_softmax = "ch05_softmax"`)."""
from .checks import ASSIGNMENT  # noqa: F401
