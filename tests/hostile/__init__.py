"Hostile and broken submissions for the grading engine (see tests/test_hostile.py)."
