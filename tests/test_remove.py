"""`execute/remove.remove_tree`: a folder a kernel wrote in goes, however deep, without following links."""
from __future__ import annotations

import os
import sys

from autograders.execute.remove import remove_tree


def test_a_chain_deeper_than_the_recursion_limit_and_longer_than_path_max_goes(tmp_path):
    top = tmp_path / "kernel-folder"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    name = "d" * 200
    for _ in range(sys.getrecursionlimit() + 200):           # ~240 KB of path: only *at calls reach its bottom
        os.mkdir(name, dir_fd=fd)
        nxt = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.close(os.open("bottom", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)
    remove_tree(top)
    assert not os.path.lexists(top)


def test_links_are_removed_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    top = tmp_path / "kernel-folder"
    (top / "a").mkdir(parents=True)
    (top / "a" / "to-outside").symlink_to(outside)
    (top / "file-link").symlink_to(outside / "keep.txt")
    remove_tree(top)
    assert not os.path.lexists(top)
    assert (outside / "keep.txt").read_text() == "mine"
    remove_tree(top)                                         # (nothing there: nothing to do)
    remove_tree(outside / "keep.txt")                        # a file is removed too
    assert not (outside / "keep.txt").exists()
