"""Results in the formats others read: our JSON, Gradescope `results.json`, JUnit XML, a Markdown summary."""
from .gradescope import to_gradescope
from .junit import to_junit
from .summary import to_markdown

FORMATS = ("json", "gradescope", "junit")
__all__ = ["FORMATS", "to_gradescope", "to_junit", "to_markdown"]
