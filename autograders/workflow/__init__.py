"""The nbgrader course workflow around the grading engine.

One module per job: `course` (the course folder, its nbgrader config and gradebook), `release`,
`collect` (with `names` for student ids and `safezip` for archives), `autograde` (engine results into
`autograded/` and the gradebook, through `gradebook`), `feedback`, `export`, `report` and `demo`.
The command-line wrappers live in `workflow/commands/`.
"""
