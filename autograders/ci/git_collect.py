"""`ch4grade collect --from-git REPOS.txt [--deadline ISO8601]`: each student's repository, at its last
commit before the deadline, into the course's submissions.

REPOS.txt has one repository per line: `STUDENT URL`, or `URL` alone (the student is then the repository's
name, `ch04-pixel-alice` → `ch04-pixel-alice`; give the id when the name is not it); `#` starts a comment.
Each repository is mirrored (a bare clone, never checked out: no hooks, filters or submodules of the
student's run) in `course/.git-mirrors/<student>.git`, fetched again on the next run. Its notebooks,
`<assignment>/<assignment>.ipynb` as `ch4grade ci init` laid them out (or `<assignment>.ipynb` at the
top), are read from the commit chosen, written with that commit's time as their modification time (the
submission time `collect` records for the late policy) and collected as usual.

The commit chosen is the newest on the default branch whose committer date is at or before the
deadline. Commit dates are written by the student's machine: a backdated commit would pass. Run
collection at the deadline (the grading workflow's schedule) so that later pushes are not there to
choose from; `collect_git.json` records, per student, the URL, the commit, its date and when it was
fetched, so a late or doubtful submission can be checked against the hosting service's push log.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..workflow.course import Course, WorkflowError
from ..workflow.files import write_json

MAX_NOTEBOOK_BYTES = 64 * 2**20
RECORD = "collect_git.json"
_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


@dataclass
class Fetched:
    student: str
    url: str
    commit: str | None = None
    committed_at: str | None = None
    fetched_at: str | None = None
    notebooks: list[str] | None = None
    problem: str | None = None


def read_repos(path: Path) -> list[tuple[str, str]]:
    "(student, url) per line of REPOS.txt; a bad line is a WorkflowError naming it."
    out, seen = [], set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) > 2:
            raise WorkflowError(f"{path}:{n}: expected `STUDENT URL` or `URL`, got {line!r}")
        url = parts[-1]
        student = parts[0] if len(parts) == 2 else re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        if not _STUDENT.match(student):
            raise WorkflowError(f"{path}:{n}: {student!r} is not a usable student id (letters, digits, . _ @ + -)")
        if student in seen:
            raise WorkflowError(f"{path}:{n}: student {student!r} appears twice")
        seen.add(student)
        out.append((student, url))
    if not out:
        raise WorkflowError(f"{path}: no repositories listed")
    return out


def parse_deadline(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise WorkflowError(f"--deadline {text!r} is not an ISO 8601 time (e.g. 2026-12-01T23:59:00+09:00)") from None
    if when.tzinfo is None:
        raise WorkflowError(f"--deadline {text!r} has no time zone: add one (Z, +09:00...)")
    return when


def _git(*args: str, git_dir: Path | None = None, timeout: int = 300) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_LFS_SKIP_SMUDGE": "1"}
    cmd = ["git", *(["--git-dir", str(git_dir)] if git_dir else []), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if res.returncode != 0:
        raise RuntimeError((res.stderr or res.stdout).strip().splitlines()[-1:] or [f"git {args[0]} failed"])
    return res.stdout


def mirror(url: str, where: Path) -> None:
    "A bare mirror of `url` at `where`, cloned once and fetched on later runs."
    if (where / "HEAD").exists():
        _git("fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/heads/*", git_dir=where)
    else:
        where.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--bare", "--quiet", "--no-recurse-submodules", url, str(where))


def pick_commit(git_dir: Path, deadline: dt.datetime | None) -> tuple[str, str] | None:
    "(sha, committer date ISO) of the newest commit on HEAD at or before `deadline`; None when there is none."
    args = ["rev-list", "-1", "--first-parent"]
    if deadline is not None:
        args.append(f"--before={deadline.isoformat()}")
    try:
        sha = _git(*args, "HEAD", git_dir=git_dir).strip()
    except RuntimeError:
        return None           # an empty repository
    if not sha:
        return None
    when = _git("show", "-s", "--format=%cI", sha, git_dir=git_dir).strip()
    return sha, when


def notebooks_at(git_dir: Path, sha: str, names: list[str]) -> dict[str, bytes]:
    "Each assignment's notebook at commit `sha` (`<name>/<name>.ipynb`, else `<name>.ipynb`), size-capped."
    found = {}
    for name in names:
        for rel in (f"{name}/{name}.ipynb", f"{name}.ipynb"):
            try:
                size = int(_git("cat-file", "-s", f"{sha}:{rel}", git_dir=git_dir))
            except (RuntimeError, ValueError):
                continue
            if size > MAX_NOTEBOOK_BYTES:
                raise RuntimeError(f"{rel} is {size} bytes (more than {MAX_NOTEBOOK_BYTES})")
            found[name] = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "blob", f"{sha}:{rel}"],
                                         capture_output=True, check=True, timeout=120).stdout
            break
    return found


def fetch_all(course: Course, repos: list[tuple[str, str]], names: list[str], deadline: dt.datetime | None,
              inbox: Path, progress: bool = True) -> list[Fetched]:
    """Mirror every repository and write its notebooks as `inbox/<student>/<name>.ipynb`, dated by the
    commit chosen. A repository that cannot be fetched is reported, never fatal."""
    from tqdm.auto import tqdm

    out = []
    for student, url in tqdm(repos, desc="fetch", unit="repo", disable=not progress):
        f = Fetched(student, url, fetched_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        out.append(f)
        git_dir = course.root / ".git-mirrors" / f"{student}.git"
        try:
            mirror(url, git_dir)
            picked = pick_commit(git_dir, deadline)
            if picked is None:
                f.problem = "no commit" + (f" before the deadline {deadline.isoformat()}" if deadline else "")
                continue
            f.commit, f.committed_at = picked
            found = notebooks_at(git_dir, f.commit, names)
        except (RuntimeError, subprocess.SubprocessError, OSError) as e:
            f.problem = f"could not fetch: {e}"
            continue
        f.notebooks = sorted(found)
        if not found:
            f.problem = f"no notebook of {', '.join(names)} at {f.commit[:12]}"
        stamp = dt.datetime.fromisoformat(f.committed_at).timestamp()
        for name, data in found.items():
            path = inbox / student / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (stamp, stamp))
    return out


def parse_shard(text: str | None) -> tuple[int, int]:
    "`K/N` (1 ≤ K ≤ N) → (K, N); None → (1, 1)."
    if not text:
        return 1, 1
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise WorkflowError(f"--shard {text!r}: expected K/N with 1 ≤ K ≤ N (e.g. 2/4)")
    return int(m[1]), int(m[2])


def collect_from_git(course: Course, repos_file: str | Path, deadline: str | None = None,
                     names: list[str] | None = None, progress: bool = True, shard: str | None = None):
    """Fetch, then `collect` what was fetched. Returns (fetched per student, the collect summary);
    `course/collect_git.json` keeps the commit record of every run's latest fetch per student.
    `shard="K/N"` takes every N-th repository of the list from the K-th (runners grading a class in parts)."""
    from ..workflow.collect import collect

    k, n = parse_shard(shard)
    repos = read_repos(Path(repos_file))[k - 1::n]
    when = parse_deadline(deadline)
    names = names or course.released() or course.available()
    with tempfile.TemporaryDirectory(prefix="ch4grade-git-") as tmp:
        fetched = fetch_all(course, repos, names, when, Path(tmp), progress)
        summary = collect(course, Path(tmp), progress=progress) if any(f.notebooks for f in fetched) else None
    record_path = course.root / RECORD
    try:
        record = json.loads(record_path.read_text()) if record_path.exists() else {}
    except ValueError:
        record = {}
    record.update({f.student: {**asdict(f), "deadline": when.isoformat() if when else None} for f in fetched})
    write_json(record_path, record)
    return fetched, summary
