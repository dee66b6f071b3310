"""A file that raises at import runs on past the top-level statement that raised, as a notebook runs its
later cells (the book's 2.3 KeyError demonstration typed into a script); ``sys.exit()`` ends it; a file
that then defines nothing of the chapter still cannot load."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_target import V1, loaded

DEMO = 'tok = SimpleTokenizerV1({"tea": 0})\nprint(tok.encode("Hello tea"))  # KeyError: \'Hello\', as in 2.3\n'


def test_a_file_runs_on_past_the_statement_that_raised(tmp_path: Path) -> None:
    """The book's 2.3 demonstration typed into a script: the statement is skipped with its line and
    error, the rest runs once (nothing before it twice), ``from __future__`` still holds."""
    f = tmp_path / "ch02.py"
    f.write_text("from __future__ import annotations\nruns = []\nruns.append(1)\n" + V1 + DEMO
                 + "def later(x: Undefined) -> Undefined:\n    return x\n\nruns.append(2)\nafter = later(3)\n")
    t = loaded(f)
    try:
        assert t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1" and t.namespace["after"] == 3
        assert t.namespace["runs"] == [1, 2]
        demo_line = f.read_text().splitlines().index(DEMO.splitlines()[1]) + 1
        assert t.notes == [f"ch02.py: the top-level statements that raised were skipped (line {demo_line}: "
                           "KeyError: 'Hello'); the rest of the file ran, as a notebook runs its later cells"]
    finally:
        t.close()


def test_later_failures_are_counted_and_a_file_of_nothing_still_cannot_load(tmp_path: Path) -> None:
    from llmspec.errors import TargetError

    f = tmp_path / "cascade.py"
    f.write_text(V1 + "raw_text = open('missing.txt').read()\n" + "n = len(raw_text)\n" * 4)
    t = loaded(f)
    try:
        (note,) = t.notes
        assert "FileNotFoundError" in note and note.count("NameError: name 'raw_text' is not defined") == 2
        assert "and 2 more)" in note and t.names["SimpleTokenizerV1"]
    finally:
        t.close()
    (tmp_path / "nothing.py").write_text("import torch\nraise RuntimeError('boom at import')\nx = 1\n")
    with pytest.raises(TargetError, match="importing failed at .*nothing.py:2: RuntimeError: boom at import"):
        loaded(tmp_path / "nothing.py")
    (tmp_path / "syntax.py").write_text(V1 + "def f(:\n")
    with pytest.raises(TargetError, match="SyntaxError"):
        loaded(tmp_path / "syntax.py")


_QUITS_LINE = V1.count("\n") + 2


@pytest.mark.parametrize("name, text, holds", [
    # a file that imports itself fails in the inner run too: the outer statement is the one skipped
    ("selfish", "import selfish as again\n" + V1 + DEMO + "after = 1\n",
     lambda t: t.names["SimpleTokenizerV1"] and t.namespace["after"] == 1),
    # a failing decorator belongs to its def
    ("decorated", V1 + "@undefined_decorator\ndef helper():\n    pass\n\nafter = 1\n",
     lambda t: t.namespace["after"] == 1 and "NameError" in t.notes[0]),
    # sys.exit() ends the file, as under Python
    ("quits", V1 + "import sys\nsys.exit(0)\nnever = 1\n",
     lambda t: "never" not in t.namespace and t.names["SimpleTokenizerV1"] and t.notes == [
         f"quits.py: line {_QUITS_LINE} ends the file (SystemExit: 0); what follows it did not run"]),
])
def test_run_rest_takes_the_outermost_statement_decorators_and_stops_at_sys_exit(tmp_path: Path, name, text,
                                                                                  holds) -> None:
    (tmp_path / f"{name}.py").write_text(text)
    t = loaded(tmp_path / f"{name}.py")
    try:
        assert holds(t), t.notes
    finally:
        t.close()
