"""``llmspec.grading.submissions``: a submission's links are left out, and flagged when they point at
a classmate's work or at the grading machine (never followed: the copy holds only its own files)."""
from __future__ import annotations

import os
from pathlib import Path

from llmspec.grading.submissions import MAX_ZIP_BYTES, discover


def _links_flagged(tmp_path: Path, target_of: dict[str, Path | str]) -> tuple[set[str], list[str]]:
    """A class of two directory submissions; ``alice`` holds a link per entry of ``target_of``.
    Returns the link names flagged for alice, and her notes."""
    cls = tmp_path / "class"
    for who in ("alice", "bob"):
        (cls / who).mkdir(parents=True)
        (cls / who / "ch02.py").write_text("x = 1\n")
    for name, target in target_of.items():
        (cls / "alice" / name).symlink_to(target)
    alice = next(s for s in discover([str(cls)], tmp_path / "work") if s.name == "alice")
    assert alice.problem is None, alice.problem
    assert not any((tmp_path / "work" / "alice" / "alice" / name).exists() for name in target_of)  # never copied
    flagged = {f["detail"].partition(" -> ")[0] for f in alice.flags if f["kind"] == "links"}
    return flagged, list(alice.notes)


def test_links_to_classmates_and_the_machine_are_flagged(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    flagged, notes = _links_flagged(tmp_path, {
        "classmate.py": cls / "bob" / "ch02.py",
        "whole_class": cls,  # the class directory itself holds every classmate's work
        "environ.txt": "/proc/self/environ",
    })
    assert flagged == {"classmate.py", "whole_class", "environ.txt"}
    assert len(notes) == 3 and all("links are not followed" in n for n in notes)


def test_a_link_to_a_folder_above_the_class_is_flagged(tmp_path: Path) -> None:
    flagged, _notes = _links_flagged(tmp_path, {"everything": tmp_path, "above": tmp_path.parent})
    assert flagged == {"everything", "above"}


def test_a_single_file_is_bounded_like_a_folder(tmp_path: Path) -> None:
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as f:
        f.truncate(MAX_ZIP_BYTES + 1)  # sparse: no disk used
    sub = discover([str(huge)], tmp_path / "work")[0]
    assert sub.problem is not None and "submission too large" in sub.problem
    assert not (tmp_path / "work" / "huge" / "huge.py").exists()


def test_links_within_the_submission_are_left_out_unflagged(tmp_path: Path) -> None:
    cls = tmp_path / "class"
    flagged, notes = _links_flagged(tmp_path, {"again.py": cls / "alice" / "ch02.py", "itself": cls / "alice",
                                               "relative.py": "ch02.py"})
    assert flagged == set()
    assert len(notes) == 3


def test_the_digest_is_of_the_files_graded(tmp_path: Path) -> None:
    """Resume keeps a grade only for the same files: the digest changes with a file's bytes or name,
    not with where the class lives or when it was copied."""
    def digest(files: dict[str, str], where: str) -> str:
        sub = tmp_path / where / "alice"
        sub.mkdir(parents=True)
        for name, text in files.items():
            (sub / name).write_text(text)
        return discover([str(sub)], tmp_path / where / "work", single=True)[0].digest

    base = digest({"ch02.py": "x = 1\n"}, "a")
    assert digest({"ch02.py": "x = 1\n"}, "b") == base
    assert digest({"ch02.py": "x = 2\n"}, "c") != base
    assert digest({"main.py": "x = 1\n"}, "d") != base
    assert digest({"ch02.py": "x = 1\n", "helpers.py": ""}, "e") != base


def test_paths_are_said_as_the_student_named_them(tmp_path: Path) -> None:
    """In a class, a folder's files by the folder's name; a single submission's folder is the
    platform's (Gradescope's ``submission/``): its files by their own names."""
    for who, files in (("alice", ("ch02.py",)), ("submission", ("ch02.py",)), ("split", ("v1.py", "v2.py"))):
        for f in files:
            (tmp_path / "class" / who).mkdir(parents=True, exist_ok=True)
            (tmp_path / "class" / who / f).write_text("x = 1\n")
    in_class = {s.name: s for s in discover([str(tmp_path / "class")], tmp_path / "work")}
    assert in_class["alice"].shown(f"{in_class['alice'].target}:3") == "alice/ch02.py:3"
    single = discover([str(tmp_path / "class" / "submission")], tmp_path / "one", single=True)[0]
    assert single.shown(f"cannot load {single.target}") == "cannot load ch02.py"
    split = discover([str(tmp_path / "class" / "split")], tmp_path / "two", single=True)[0]
    assert split.shown(f"cannot load {split.target}: {split.target}/v2.py:1") == "cannot load split: v2.py:1"


def test_single_dot_is_said_by_its_files_names(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "ch02.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path / "up")
    sub = discover(["."], tmp_path / "work", single=True)[0]
    assert sub.shown(f"cannot load {sub.target}") == "cannot load ch02.py"


def test_a_file_nested_too_deep_to_compile_is_a_problem_of_its_own(tmp_path: Path) -> None:
    """One submission the compiler cannot hold must not stop the class: it is graded 0 with a reason."""
    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "deep.py").write_text("y = x" + "[0]" * 100_000 + "\n")
    (cls / "deep_cell.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "source": "!pip install x\\ny = x' + "[0]" * 100_000 + '"}]}')
    (cls / "deep_json.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (cls / "fine.py").write_text("x = 1\n")
    subs = {s.name: s for s in discover([str(cls)], tmp_path / "work")}
    assert subs["deep"].problem is not None and "deep.py: cannot be compiled (RecursionError" in subs["deep"].problem
    assert "deep_json.ipynb: not a Jupyter notebook (invalid JSON: RecursionError" in (subs["deep_json"].problem or "")
    assert subs["deep_cell"].problem is None and subs["fine"].problem is None


def test_the_grader_parses_no_source_larger_than_a_solution(tmp_path: Path, monkeypatch) -> None:
    """Parsing costs some 300 times the text in memory: a submission of 2 MB and more is left to the
    worker, which loads it within its own limits; the grader neither compiles nor reads it for hints."""
    from llmspec.grading import submissions
    from llmspec.hints.sources import read_target
    from llmspec.runtime.resolve import MAX_SOURCE_BYTES

    big = tmp_path / "big.py"
    big.write_text("x = [" + ", ".join("0" for _ in range(MAX_SOURCE_BYTES // 3 + 1)) + "]\n")
    cells = [{"cell_type": "code", "source": "y = 1\n" * (MAX_SOURCE_BYTES // 12 + 1)} for _ in range(2)]
    (tmp_path / "big.ipynb").write_text(__import__("json").dumps({"cells": cells}))

    def no_compile(*_args, **_kwargs):
        raise AssertionError("the grader compiled a submission over the limit")

    monkeypatch.setattr(submissions, "compile", no_compile, raising=False)
    sub = discover([str(big)], tmp_path / "work")[0]
    assert sub.problem is None and sub.target is not None
    assert read_target("file", str(big), "big.py") == []
    assert read_target("notebook", str(tmp_path / "big.ipynb"), "big.ipynb") == []


def test_no_submission_stops_the_class(tmp_path: Path) -> None:
    """Whatever one submission holds (a zip that cannot be extracted, a name no file system holds,
    names that are not UTF-8, the name of a class report), it is graded 0 with its reason or graded
    as it is; the others are graded."""
    import zipfile

    from llmspec.grading import atomic

    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "fine.py").write_text("x = 1\n")
    with zipfile.ZipFile(cls / "locked.zip", "w") as z:
        z.writestr("ch02.py", "x = 1\n")
    data = bytearray((cls / "locked.zip").read_bytes())
    for header, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # marked encrypted, as a password zip is
        data[data.find(header) + flags] |= 1
    (cls / "locked.zip").write_bytes(bytes(data))
    with zipfile.ZipFile(cls / "deep.zip", "w") as z:
        z.writestr("d" * 300 + "/ch02.py", "x = 1\n")  # a folder name no file system holds
    (cls / "report.html.py").write_text("x = 1\n")
    (cls / "gradebook.csv.py").write_text("x = 1\n")
    os.mkdir(os.fsencode(cls / "bob"))
    (cls / "bob" / "ch02.py").write_text("x = 1\n")
    open(os.fsencode(cls / "bob") + b"/notes\xe9.txt", "wb").close()  # a name unzip made of a Windows name
    open(os.fsencode(cls) + b"/eve\xff.py", "wb").write(b"x = 1\n")
    (cls / "huge.zip").touch()
    os.truncate(cls / "huge.zip", MAX_ZIP_BYTES + 1)  # sparse: no disk used
    subs = {s.name: s for s in discover([str(cls)], tmp_path / "work")}
    assert sorted(subs) == ["bob", "deep", "eve", "fine", "gradebook.csv-2", "huge", "locked", "report.html-2"]
    assert "locked.zip: cannot be read (RuntimeError" in (subs["locked"].problem or "")
    assert "deep.zip: cannot be read (OSError: [Errno 36] File name too long" in (subs["deep"].problem or "")
    assert "huge.zip: submission too large" in (subs["huge"].problem or "")
    assert all(subs[n].problem is None for n in ("bob", "eve", "fine", "gradebook.csv-2", "report.html-2"))
    atomic.write_text(tmp_path / "gradebook.csv", f"eve,{subs['eve'].source}\n")  # the class report of that name
    assert (tmp_path / "gradebook.csv").read_text(encoding="utf-8").endswith("eve\\udcff.py\n")

