"""The built-in assignment units, one folder each (see `autograders/checks/__init__.py`)."""
