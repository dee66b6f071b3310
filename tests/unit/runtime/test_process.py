"""The trusted side's view of a worker process (llmspec/runtime/process.py): where a hung call was
stuck is read from the worker's own stack dump, which submission code can write itself, so the
trusted process quotes a line only from the submission's own files."""
from __future__ import annotations

from pathlib import Path

from llmspec.runtime import process


def dump(file: str, line: int) -> str:
    return f'Current thread 0x00007f (most recent call first):\n  File "{file}", line {line} in encode\n'


def test_a_hang_is_placed_at_the_learners_line(tmp_path: Path) -> None:
    code = tmp_path / "ch02.py"
    code.write_text("x = 1\nwhile True:\n    x += 1\n")
    assert process.where_stuck(dump(str(code), 3), str(code)) == "; your code was at line 3 (`x += 1`)"


def test_a_file_outside_the_submission_is_never_read_for_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    code = tmp_path / "sub" / "ch02.py"
    code.write_text("pass\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET\n")
    link = tmp_path / "sub" / "notes.py"
    link.symlink_to(secret)
    for named in (secret, link, Path("/etc/passwd")):
        said = process.where_stuck(dump(str(named), 1), str(code))
        assert "TOPSECRET" not in said and "root:" not in said, said
