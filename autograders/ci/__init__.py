"""CI in students' own repositories: `ci init` writes an assignment template repository (the released
notebook, its student folder, a runner and a workflow for GitHub Actions or GitLab CI); `student_run.py`
is the runner that checks a student's notebook on every push and reports."""
