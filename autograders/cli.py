"""ch4grade: autograde chapter 4 of the fastai book (nbgrader course workflow, isolated grading, reports).

One sub-command per module, each loaded only when used. Every command module exposes `add_arguments(parser)` and `run(args) -> int` (the exit code), so
`ch4grade --help` stays fast and each capability keeps its own interface next to its code.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    "Shows every option's default (unless None, False or already in its help) and keeps descriptions as written."

    def _get_help_string(self, action: argparse.Action) -> str:
        help_ = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "(default" in help_:
            return help_
        return super()._get_help_string(action)


def package_version() -> str:
    try:
        return version("ch4grade")
    except PackageNotFoundError:
        return "unknown"

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("reference.data.command", "prepare MNIST and fastai's MNIST_SAMPLE / mnist_png layouts offline"),
    "reproduce": ("reference.reproduce", "run the whole chapter (and its Further Research) and compare with the book"),
    "grade": ("autograders.commands.grade", "grade notebooks: isolated execution, checks, JSON/Gradescope/JUnit results"),
    "serve": ("autograders.commands.serve", "keep a grader warm between batches (`grade --server` grades on it)"),
    "check": ("autograders.commands.check", "run the public checks of a notebook on this machine (for students)"),
    "suggest": ("autograders.commands.suggest", "suggested scores for a notebook's prose answers (for graders)"),
    "release": ("autograders.workflow.commands.release", "nbgrader generate_assignment for one or all assignments"),
    "collect": ("autograders.workflow.commands.collect", "a folder or zip of submissions into nbgrader's submitted/ layout"),
    "autograde": ("autograders.workflow.commands.autograde", "grade collected submissions into nbgrader's gradebook"),
    "formgrader": ("autograders.workflow.commands.formgrader", "nbgrader's formgrader for the course (grade by hand in a browser)"),
    "feedback": ("autograders.workflow.commands.feedback", "HTML feedback per student (hidden checks never revealed)"),
    "export": ("autograders.workflow.commands.export", "grades as CSV and Gradescope results"),
    "report": ("autograders.workflow.commands.report", "a class report: HTML with score histogram and per-question difficulty"),
    "ci": ("autograders.commands.ci", "CI in students' repositories: `ci init` (template repository), `ci grading`, `ci merge`"),
    "demo": ("autograders.workflow.commands.demo", "release -> submit -> autograde -> feedback on a demo class"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ch4grade", description=__doc__.splitlines()[0],
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"ch4grade {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        # Arguments are added lazily in main() for the chosen command only.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help", "--version") or argv[0] not in COMMANDS:
        if argv and not argv[0].startswith("-"):
            parser.error(f"unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}")
        parser.parse_args(argv or ["--help"])
        return 0
    name = argv[0]
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"ch4grade {name}", description=help_, formatter_class=HelpFormatter)
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
