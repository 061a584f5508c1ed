"""Who a collected submission belongs to: the LMS name wins over notebook metadata, non-Latin names get
distinct and stable ids, and different students are never merged.

Uses the fixture course of tests/test_workflow.py (`course`, `student_nb`): a real release of the tiny
`ch04_fixture` assignment, then real `collect` runs on zips and folders.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograders.workflow.collect import collect
from autograders.workflow.names import alternative_id, clean_student_id, identify, normalise_name
from test_workflow import NAME, course, student_nb  # noqa: F401  (`course` is a fixture)

VALID_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MOODLE = "{}_{}_assignsubmission_file_" + NAME + ".ipynb"


def nb_bytes(course, body: str, prose: str, student: str | None = None) -> bytes:
    return nbformat.writes(student_nb(course, body, prose, student=student)).encode("utf-8")


def make_zip(path: Path, members: dict[str, bytes], minute: dict[str, int] | None = None) -> Path:
    "A zip of `members`; `minute` sets a member's time (later minute = newer submission)."
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 10, (minute or {}).get(name, 0), 0))
            zf.writestr(info, data)
    return path


def submitted(course, student: str) -> Path:
    return course.root / "submitted" / student / NAME / f"{NAME}.ipynb"


def by_source(summary):
    return {e.source: e for e in summary.entries}


def legacy_student_id(raw: str) -> str:
    "clean_student_id before non-Latin names were supported: what existing courses' ids are."
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", "_", text.strip())
    text = re.sub(r"[^A-Za-z0-9_.-]", "", text).strip("._-")
    return text.lower()[:64]


# -- the LMS identity wins over notebook metadata ----------------------------------------------------------
@pytest.mark.parametrize("layout", ["moodle", "folder"])
def test_metadata_naming_a_classmate_does_not_replace_her_submission(course, tmp_path, layout):
    alice = nb_bytes(course, "return 2 * x", "Alice's own answer.")
    blank = nb_bytes(course, "pass", "", student="alice_smith")      # Mallory's, claiming to be Alice's
    if layout == "moodle":
        a_name, m_name = MOODLE.format("Alice Smith", 111), MOODLE.format("Mallory Jones", 222)
    else:
        a_name, m_name = f"alice_smith/{NAME}.ipynb", f"mallory_jones/{NAME}.ipynb"
    zpath = make_zip(tmp_path / "subs.zip", {a_name: alice, m_name: blank}, minute={m_name: 30})  # hers is newer
    summary = collect(course, zpath, progress=False)
    got = by_source(summary)
    assert (got[a_name].status, got[a_name].student) == ("collected", "alice_smith")
    assert (got[m_name].status, got[m_name].student) == ("collected", "mallory_jones")
    assert submitted(course, "alice_smith").read_bytes() == alice
    assert submitted(course, "mallory_jones").read_bytes() == blank
    # the mismatch is reported: on the entry, in the printed summary, in the JSON files
    [warning] = got[m_name].warnings
    mallory = "Mallory Jones" if layout == "moodle" else "mallory_jones"
    assert "'alice_smith'" in warning and f"kept '{mallory}'" in warning
    assert any(line.startswith("  WARNING") and m_name in line and "alice_smith" in line
               for line in summary.lines())
    saved = json.loads((course.root / "collect_summary.json").read_text(encoding="utf-8"))
    assert {e["source"]: e for e in saved["entries"]}[m_name]["warnings"] == [warning]
    record = json.loads((submitted(course, "mallory_jones").parent / "collected_from.json").read_text())
    assert record["warnings"] == [warning]
    assert record["identified_by"] == ("moodle" if layout == "moodle" else "folder name")
    assert got[a_name].warnings == []


def test_a_file_named_only_by_metadata_never_beats_the_named_one(course, tmp_path):
    alice = nb_bytes(course, "return 2 * x", "Alice's own answer.")
    claim = nb_bytes(course, "pass", "", student="alice")
    zpath = make_zip(tmp_path / "subs.zip", {f"alice_{NAME}.ipynb": alice, f"{NAME}.ipynb": claim},
                     minute={f"{NAME}.ipynb": 59})                      # newer, but only its metadata says who
    got = by_source(collect(course, zpath, progress=False))
    assert got[f"alice_{NAME}.ipynb"].status == "collected"
    assert got[f"{NAME}.ipynb"].status == "duplicate"
    assert f"kept alice_{NAME}.ipynb" in got[f"{NAME}.ipynb"].reason and "metadata" in got[f"{NAME}.ipynb"].reason
    assert submitted(course, "alice").read_bytes() == alice


def test_identify_keeps_the_name_and_reports_the_metadata():
    known = ["ch04_sgd", "ch04_learner"]
    meta = {"ch4grade": {"student": "bob", "assignment": "ch04_learner"}}
    got = identify("Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb", known, meta)
    assert (got.student, got.assignment, got.how, got.name) == ("alice_smith", "ch04_sgd", "moodle", "Alice Smith")
    assert len(got.warnings) == 2
    assert any("'bob'" in w and "'Alice Smith'" in w for w in got.warnings)
    assert any("'ch04_learner'" in w and "kept 'ch04_sgd'" in w for w in got.warnings)
    # metadata agreeing with the name (any spelling of the same id) is no mismatch
    same = identify("Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb", known,
                    {"ch4grade": {"student_id": "alice_smith", "assignment": "ch04_sgd"}})
    assert (same.student, same.warnings) == ("alice_smith", [])
    # the folder names the student: metadata cannot move the file to someone else either
    folder = identify("export/carol/ch04_sgd.ipynb", known, {"ch4grade": {"student": "dave"}})
    assert (folder.student, folder.how) == ("carol", "folder name") and "'dave'" in folder.warnings[0]


# -- metadata still fills in when the name says nothing --------------------------------------------------
def test_metadata_is_used_when_the_name_gives_no_student(course, tmp_path):
    single = tmp_path / f"{NAME}.ipynb"
    single.write_bytes(nb_bytes(course, "return 2 * x", "mine", student="Dan Brown"))
    [entry] = collect(course, single, progress=False).entries
    assert (entry.status, entry.student, entry.how, entry.display_name) == (
        "collected", "dan_brown", "notebook metadata", "Dan Brown")
    assert entry.warnings == []
    assert submitted(course, "dan_brown").read_bytes() == single.read_bytes()
    got = identify("whatever.ipynb", [NAME], {"ch4grade": {"assignment": NAME, "student": "지민"}})
    assert (got.student, got.assignment, got.how) == (clean_student_id("지민"), NAME, "notebook metadata")
    # a file name with no assignment in it: the metadata's assignment is used, as before
    assert identify("alice_homework.ipynb", [NAME], {"ch4grade": {"assignment": NAME}}).assignment == NAME


# -- non-Latin names -----------------------------------------------------------------------------------
def test_korean_only_moodle_name_is_collected_with_a_stable_id(course, tmp_path):
    src = MOODLE.format("지민", 12345)
    data = nb_bytes(course, "return 2 * x", "경사 하강법")
    zpath = make_zip(tmp_path / "subs.zip", {src: data})
    [entry] = collect(course, zpath, progress=False).entries
    sid = entry.student
    assert entry.status == "collected", entry.reason
    assert VALID_ID.match(sid) and sid.startswith("s-") and sid.isascii()
    assert (entry.how, entry.display_name) == ("moodle", "지민")
    assert submitted(course, sid).read_bytes() == data
    record = json.loads((submitted(course, sid).parent / "collected_from.json").read_text(encoding="utf-8"))
    assert record["display_name"] == "지민"
    with course.gradebook() as gb:
        assert gb.find_student(sid).last_name == "지민"
    # again: the same id, nothing changes; NFD (macOS zips) and spacing give the same id as well
    [again] = collect(course, zpath, progress=False).entries
    assert (again.student, again.status) == (sid, "unchanged")
    nfd = unicodedata.normalize("NFD", src)
    assert nfd != src and identify(nfd, [NAME]).student == sid
    assert clean_student_id(" 지민 ") == sid
    # the same on another interpreter (no dependence on Python's per-process hash seed)
    code = "from autograders.workflow.names import clean_student_id; print(clean_student_id('지민'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert out == sid


@pytest.mark.parametrize("name", ["Park 지민", "Иван Петров", "王小明", "Straße", "Søren",
                                  "A" * 70 + " 지민", "지민" * 60])
def test_non_latin_ids_are_valid_and_keep_the_ascii_part(name):
    sid = clean_student_id(name)
    assert VALID_ID.match(sid) and len(sid) <= 64, sid
    assert sid != legacy_student_id(name)                  # letters were lost: a hash tells names apart
    assert sid.startswith((legacy_student_id(name)[:55].rstrip("._-") or "s") + "-")   # room for the hash
    if not name.upper().isascii():                         # ("STRASSE" is plain ASCII: its own id)
        assert clean_student_id(name.upper()) == sid       # case does not make another student
    alt = alternative_id(name)
    assert VALID_ID.match(alt) and len(alt) <= 64 and alt != sid


def test_park_jimin_and_park_seoyeon_are_two_students(course, tmp_path):
    jimin, seoyeon = MOODLE.format("Park 지민", 101), MOODLE.format("Park 서연", 102)
    jimin_old = MOODLE.format("Park 지민", 101).replace(".ipynb", " (1).ipynb")   # her earlier upload
    files = {jimin: nb_bytes(course, "return 2 * x", "지민"), seoyeon: nb_bytes(course, "return x + x", "서연"),
             jimin_old: nb_bytes(course, "return x", "지민 old")}
    zpath = make_zip(tmp_path / "subs.zip", files, minute={jimin: 20, seoyeon: 10, jimin_old: 5})
    summary = collect(course, zpath, progress=False)
    got = by_source(summary)
    a, b = got[jimin].student, got[seoyeon].student
    assert a != b and a.startswith("park-") and b.startswith("park-") and VALID_ID.match(a) and VALID_ID.match(b)
    assert (got[jimin].status, got[seoyeon].status) == ("collected", "collected")
    assert submitted(course, a).read_bytes() == files[jimin]
    assert submitted(course, b).read_bytes() == files[seoyeon]
    # her own older upload is the duplicate (reported, kept in the source), not her classmate's
    assert (got[jimin_old].status, got[jimin_old].student) == ("duplicate", a)
    assert f"kept {jimin}" in got[jimin_old].reason
    # the summary says they are two students whose ids look alike
    [note] = summary.warnings
    assert "Park 지민" in note and "Park 서연" in note and a in note and b in note
    assert any("Park 지민" in line and "Park 서연" in line for line in summary.lines())
    assert json.loads((course.root / "collect_summary.json").read_text(encoding="utf-8"))["warnings"] == [note]
    # each id is the name's own: the same as when collected alone
    assert (a, b) == (clean_student_id("Park 지민"), clean_student_id("Park 서연"))
    lines = "\n".join(summary.lines())
    assert f"{a}/{NAME} [Park 지민]" in lines and f"{b}/{NAME} [Park 서연]" in lines


def test_different_names_on_one_id_are_kept_apart_and_reported(course, tmp_path):
    jose_a, jose_b = MOODLE.format("José", 201), MOODLE.format("Jose", 202)
    files = {jose_a: nb_bytes(course, "return 2 * x", "José"), jose_b: nb_bytes(course, "return x + x", "Jose")}
    assert clean_student_id("José") == clean_student_id("Jose") == "jose"   # accented Latin folds, as before
    summary = collect(course, make_zip(tmp_path / "subs.zip", files), progress=False)
    got = by_source(summary)
    assert {got[jose_a].status, got[jose_b].status} == {"collected"}
    assert got[jose_b].student == "jose" and got[jose_a].student == alternative_id("José")
    assert submitted(course, "jose").read_bytes() == files[jose_b]
    assert submitted(course, alternative_id("José")).read_bytes() == files[jose_a]
    [note] = summary.warnings
    assert jose_a in note and jose_b in note and "'jose'" in note
    assert got[jose_a].warnings and any(jose_a in line and "WARNING" in line for line in summary.lines())
    # a later collect remembers who holds the id: José's new version does not replace Jose's
    newer = {jose_a: nb_bytes(course, "return 2.0 * x", "José again")}
    [entry] = collect(course, make_zip(tmp_path / "later.zip", newer), progress=False).entries
    assert (entry.student, entry.status) == (alternative_id("José"), "updated")
    assert submitted(course, "jose").read_bytes() == files[jose_b]
    assert submitted(course, alternative_id("José")).read_bytes() == newer[jose_a]


def test_nbgrader_folders_and_resubmissions_stay_one_student(course, tmp_path):
    name = "Park 지민"
    sid = clean_student_id(name)
    first = nb_bytes(course, "return 2 * x", "v1")
    collect(course, make_zip(tmp_path / "a.zip", {MOODLE.format(name, 7): first}), progress=False)
    # nbgrader's own layout, whose folder is the id itself: the same student, whatever name she was collected under
    second = nb_bytes(course, "return x + x", "v2")
    inbox = tmp_path / "inbox" / sid / NAME
    inbox.mkdir(parents=True)
    (inbox / f"{NAME}.ipynb").write_bytes(second)
    summary = collect(course, tmp_path / "inbox", progress=False)
    [entry] = summary.entries
    assert (entry.student, entry.status, entry.display_name) == (sid, "updated", name)
    assert summary.warnings == [] and entry.warnings == []
    assert submitted(course, sid).read_bytes() == second


# -- plain ASCII names keep today's ids -----------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("Alice Smith", "alice_smith"), ("alice", "alice"), ("smithalice", "smithalice"), ("ALICE", "alice"),
    ("O'Brien", "obrien"), ("Jean-Luc Picard", "jean-luc_picard"), ("a.b_c-d", "a.b_c-d"),
    ("José García", "jose_garcia"), ("Zoë", "zoe"), ("x" * 80, "x" * 64),
])
def test_ascii_and_accented_latin_names_keep_todays_id(raw, expected):
    assert clean_student_id(raw) == expected == legacy_student_id(raw)


def test_ascii_file_names_collect_to_todays_ids(course, tmp_path):
    files = {f"alice_{NAME}.ipynb": nb_bytes(course, "return 2 * x", "a"),
             MOODLE.format("Bob Jones", 5): nb_bytes(course, "return 2 * x", "b"),
             f"smithcarol_12345_678901_{NAME}.ipynb": nb_bytes(course, "return 2 * x", "c")}
    summary = collect(course, make_zip(tmp_path / "subs.zip", files), progress=False)
    assert sorted(e.student for e in summary.entries) == ["alice", "bob_jones", "smithcarol"]
    assert summary.warnings == [] and all(e.warnings == [] for e in summary.entries)
    assert sorted(s.student for s in course.submissions()) == ["alice", "bob_jones", "smithcarol"]


def test_normalised_names():
    assert normalise_name("  Park\u00a0 지민 ") == normalise_name("park_지민") == "park 지민"
    assert normalise_name(unicodedata.normalize("NFD", "Park 지민")) == "park 지민"
    assert normalise_name("Ali\u200bce") == "alice"


# -- a student's own file name never files it under a classmate (red-team findings) ----------------------
def write_nb(path: Path, data: bytes, mtime: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def assert_bob_untouched(summary, bob_source: str, sid: str, bob: bytes, course):
    got = by_source(summary)
    assert submitted(course, sid).read_bytes() == bob
    assert not [e.source for e in summary.entries if e.status == "duplicate"]
    if bob_source in got:
        assert (got[bob_source].status, got[bob_source].student) in {("collected", sid), ("unchanged", sid)}


@pytest.mark.parametrize("claims", [["bob"], ["bob", "carol"]])
def test_a_file_named_for_a_classmate_in_a_students_folder_is_refused(course, tmp_path, claims):
    bob, own = nb_bytes(course, "return 2 * x", "Bob's own answer."), nb_bytes(course, "return x + x", "mine")
    inbox = tmp_path / "inbox"
    write_nb(inbox / "bob" / f"{NAME}.ipynb", bob, 1_600_000_000)
    write_nb(inbox / "alice" / f"alice_{NAME}.ipynb", nb_bytes(course, "return 2 * x", "a"), 1_600_000_000)
    forged = [write_nb(inbox / "mallory" / f"{who}_{NAME}.ipynb", nb_bytes(course, "pass", who), 1_700_000_000)
              for who in claims]                                        # newer than Bob's
    write_nb(inbox / "mallory" / f"{NAME}.ipynb", own, 1_600_000_000)   # her own, under her own name
    summary = collect(course, inbox, progress=False)
    got = by_source(summary)
    assert_bob_untouched(summary, str(Path("bob") / f"{NAME}.ipynb"), "bob", bob, course)
    assert (got[str(Path("mallory") / f"{NAME}.ipynb")].status, submitted(course, "mallory").read_bytes()) == (
        "collected", own)
    assert got[str(Path("alice") / f"alice_{NAME}.ipynb")].student == "alice"   # folder and name agree
    for path, who in zip(forged, claims):
        e = got[str(path.relative_to(inbox))]
        assert (e.status, e.student) == ("rejected", None)
        assert "'mallory'" in e.reason and f"'{who}'" in e.reason and "ambiguous" in e.reason
        assert any(line.startswith("  REJECTED") and e.source in line and f"'{who}'" in line
                   for line in summary.lines())
    assert sorted(s.student for s in course.submissions()) == ["alice", "bob", "mallory"]
    # a later run with only Mallory's folder (Bob's collected before): his submission is not replaced
    later = tmp_path / "later"
    write_nb(later / "mallory" / f"bob_{NAME}.ipynb", nb_bytes(course, "pass", "again"), 1_800_000_000)
    [entry] = collect(course, later, progress=False).entries
    assert entry.status == "rejected" and "ambiguous" in entry.reason
    assert submitted(course, "bob").read_bytes() == bob
    assert not (course.root / "collect_archive").exists()


def test_a_container_folder_is_sorted_by_its_file_names(course, tmp_path):
    files = {"alice": f"alice_{NAME}.ipynb", "bob": f"bob_{NAME}.ipynb", "carol": f"{NAME}_carol (1).ipynb"}
    inbox = tmp_path / "inbox"
    data = {who: write_nb(inbox / "submissions" / name, nb_bytes(course, "return 2 * x", who), 1_600_000_000)
            .read_bytes() for who, name in files.items()}
    write_nb(inbox / "late" / f"dave_{NAME}.ipynb", nb_bytes(course, "return 2 * x", "dave"), 1_600_000_000)
    summary = collect(course, inbox, progress=False)
    got = by_source(summary)
    for who, name in files.items():
        e = got[str(Path("submissions") / name)]
        assert (e.status, e.student, e.how) == ("collected", who, "file name")
        assert submitted(course, who).read_bytes() == data[who]
    # a folder with one other name in it may be someone's own folder: nobody can tell, so it is refused
    late = got[str(Path("late") / f"dave_{NAME}.ipynb")]
    assert late.status == "rejected" and "'late'" in late.reason and "'dave'" in late.reason
    assert summary.warnings == [] and all(e.warnings == [] for e in summary.entries)


def test_moodle_folders_are_who_submitted_whatever_the_file_inside_is_called(course, tmp_path):
    bob, forged = nb_bytes(course, "return 2 * x", "Bob's own answer."), nb_bytes(course, "pass", "")
    b_name = f"Bob Jones_222_assignsubmission_file_/bob_jones_{NAME}.ipynb"
    m_name = f"Mallory Evil_111_assignsubmission_file_/bob_jones_{NAME}.ipynb"
    zpath = make_zip(tmp_path / "subs.zip", {b_name: bob, m_name: forged}, minute={m_name: 30})
    summary = collect(course, zpath, progress=False)
    got = by_source(summary)
    assert_bob_untouched(summary, b_name, "bob_jones", bob, course)
    assert (got[b_name].how, got[b_name].display_name, got[b_name].warnings) == ("moodle folder", "Bob Jones", [])
    assert (got[m_name].status, got[m_name].student, got[m_name].display_name) == (
        "collected", "mallory_evil", "Mallory Evil")
    assert submitted(course, "mallory_evil").read_bytes() == forged
    [warning] = got[m_name].warnings
    assert "'bob_jones'" in warning and "kept 'Mallory Evil'" in warning
    assert any(line.startswith("  WARNING") and m_name in line and "bob_jones" in line for line in summary.lines())
    assert sorted(s.student for s in course.submissions()) == ["bob_jones", "mallory_evil"]


@pytest.mark.parametrize("wrapper", ["", "Assignment 4 export/"])
def test_a_moodle_export_in_folders_collects_every_student(course, tmp_path, wrapper):
    files = {f"{wrapper}Alice Smith_101_assignsubmission_file_/{NAME}.ipynb": nb_bytes(course, "return 2 * x", "a"),
             # her own file name, no assignment in it: the notebook's metadata says which
             f"{wrapper}Park 지민_102_assignsubmission_file_/my homework (final).ipynb":
                 nb_bytes(course, "return x + x", "지민"),
             f"{wrapper}Alice Smith_101_assignsubmission_onlinetext_/onlinetext.html": b"<p>see the notebook</p>"}
    summary = collect(course, make_zip(tmp_path / "subs.zip", files), progress=False)
    got = [by_source(summary)[name] for name in files]
    park = clean_student_id("Park 지민")
    assert [(e.status, e.student, e.how) for e in got[:2]] == [
        ("collected", "alice_smith", "moodle folder"), ("collected", park, "moodle folder")]
    assert (got[1].display_name, got[1].assignment) == ("Park 지민", NAME)
    assert got[2].status == "rejected" and "not a notebook" in got[2].reason
    assert submitted(course, "alice_smith").read_bytes() == files[list(files)[0]]
    assert submitted(course, park).read_bytes() == files[list(files)[1]]
    assert all(e.warnings == [] for e in summary.entries)


def test_a_moodle_looking_folder_inside_a_students_folder_is_refused():
    got = identify(f"mallory/Bob Jones_222_assignsubmission_file_/{NAME}.ipynb", [NAME])
    assert got.student is None and "'mallory'" in got.problem and "'Bob Jones'" in got.problem
    # only the outermost Moodle folder counts: one below it is part of what the student uploaded
    inner = identify(f"Mallory Evil_1_assignsubmission_file_/Bob Jones_2_assignsubmission_file_/{NAME}.ipynb",
                     [NAME])
    assert (inner.student, inner.how) == ("mallory_evil", "moodle folder")


@pytest.mark.parametrize("earlier", [True, False])
def test_a_canvas_login_beats_the_metadata_even_without_the_assignment_in_the_name(course, tmp_path, earlier):
    bob = nb_bytes(course, "return 2 * x", "Bob's own answer.")
    forged = nb_bytes(course, "pass", "", student="bob")               # Mallory's, claiming to be Bob's
    b_name, m_name = f"bob_{NAME}.ipynb", "malloryevil_111_999_homework.ipynb"
    if earlier:                                                         # Bob collected in an earlier run
        collect(course, make_zip(tmp_path / "first.zip", {b_name: bob}), progress=False)
        members = {m_name: forged}
    else:
        members = {b_name: bob, m_name: forged}
    summary = collect(course, make_zip(tmp_path / "subs.zip", members, minute={m_name: 30}), progress=False)
    got = by_source(summary)
    assert_bob_untouched(summary, b_name, "bob", bob, course)
    assert (got[m_name].status, got[m_name].student, got[m_name].how, got[m_name].assignment) == (
        "collected", "malloryevil", "canvas", NAME)
    assert submitted(course, "malloryevil").read_bytes() == forged
    [warning] = got[m_name].warnings
    assert "'bob'" in warning and "kept 'malloryevil'" in warning
    assert any(line.startswith("  WARNING") and m_name in line for line in summary.lines())
    assert not (course.root / "collect_archive").exists()


def test_canvas_names_without_the_assignment_use_the_login():
    known = ["ch04_sgd", "ch04_learner"]
    meta = {"ch4grade": {"assignment": "ch04_sgd"}}
    got = identify("smithcarol_LATE_12345_678901_Homework 4 (1).ipynb", known, meta)
    assert (got.student, got.how, got.assignment, got.warnings) == ("smithcarol", "canvas", "ch04_sgd", [])
    # a Canvas name in an assignment's folder: the folder gives the assignment
    got = identify("ch04_learner/smithcarol_12345_678901_notebook.ipynb", known)
    assert (got.student, got.assignment) == ("smithcarol", "ch04_learner")
    # look-alikes are not Canvas: the second number (an attachment id) has 3+ digits, the login is no assignment
    assert (identify("hw_1_2_ch04_sgd.ipynb", known).student, identify("hw_1_2_ch04_sgd.ipynb", known).how) == (
        "hw_1_2", "file name")
    assert identify("ch04_sgd_123_4567_alice.ipynb", known).how == "file name"


def test_metadata_alone_never_replaces_a_submission_its_path_identified(course, tmp_path):
    bob = nb_bytes(course, "return 2 * x", "Bob's own answer.", student="Bob Jones")
    collect(course, make_zip(tmp_path / "a.zip", {MOODLE.format("Bob Jones", 222): bob}), progress=False)
    claim = tmp_path / f"{NAME}.ipynb"
    claim.write_bytes(nb_bytes(course, "pass", "", student="Bob Jones"))
    summary = collect(course, claim, progress=False)
    [entry] = summary.entries
    assert (entry.status, entry.student, entry.how) == ("rejected", "bob_jones", "notebook metadata")
    assert "metadata" in entry.reason and "Moodle file name" in entry.reason and "not collected" in entry.reason
    assert any(line.startswith("  REJECTED") and "bob_jones" in line for line in summary.lines())
    assert submitted(course, "bob_jones").read_bytes() == bob
    assert not (course.root / "collect_archive").exists()
    # the very same notebook is merely unchanged; a submission metadata identified may be updated by metadata
    claim.write_bytes(bob)
    assert collect(course, claim, progress=False).entries[0].status == "unchanged"
    dan = tmp_path / "dan" / f"{NAME}.ipynb"
    dan.parent.mkdir()
    dan.write_bytes(nb_bytes(course, "return x", "v1", student="Dan Brown"))
    assert collect(course, dan, progress=False).entries[0].status == "collected"
    dan.write_bytes(nb_bytes(course, "return 2 * x", "v2", student="Dan Brown"))
    [again] = collect(course, dan, progress=False).entries
    assert (again.status, again.student, again.warnings) == ("updated", "dan_brown", [])
    assert submitted(course, "dan_brown").read_bytes() == dan.read_bytes()
