"""A file that raises at import runs on past the statement that raised, as a notebook runs its later cells.

Why: learners type the book's demonstrations into their ``.py`` files, the ones that raise on purpose
too: 2.3 shows ``SimpleTokenizerV1(vocab).encode("Hello, do you like tea?")`` failing with
``KeyError: 'Hello'``.  Python stops the import there, so every listing typed after it would be "cannot
load", though the learner implemented it.  A notebook with that cell only skips the cell; a file gets
the same: the top-level statement that raised is reported with its line, and the statements after it
run one by one in the module's namespace (each failing one is skipped).  Nothing before it runs twice.
``sys.exit()`` is not a failure: the file ends there, as it does under Python.
"""
from __future__ import annotations

import __future__
import ast
import types
from collections.abc import Callable
from pathlib import Path

from llmspec.i18n import _

MAX_NAMED = 3  # failing statements named in the note; the rest are counted


def run_rest(module: types.ModuleType, file: Path, exc: BaseException,
             failed: Callable[[BaseException], str]) -> list[str] | None:
    """Run the top-level statements of ``file`` after the one ``exc`` was raised from, in ``module``'s
    namespace; the notes for the learner, or ``None`` when ``exc`` did not come from a top-level
    statement of ``file`` (it cannot be told where to go on from).  ``failed``: an exception in one line."""
    try:
        tree = ast.parse(file.read_bytes(), str(file))
    except (OSError, SyntaxError, ValueError):
        return None
    line = _top_level_line(exc, file)
    at = next((i for i, stmt in enumerate(tree.body) if _first_line(stmt) <= (line or 0) <= (stmt.end_lineno or 0)),
              None)
    if at is None:
        return None
    if isinstance(exc, SystemExit):  # sys.exit() at the top: the learner means the rest not to run
        return [_("{file}: line {line} ends the file ({error}); what follows it did not run").format(
            file=file.name, line=tree.body[at].lineno, error=failed(exc))]
    flags = _future_flags(tree)
    errors = [(tree.body[at].lineno, failed(exc))]
    for stmt in tree.body[at + 1:]:
        try:
            exec(compile(ast.Module([stmt], []), str(file), "exec", flags=flags, dont_inherit=True), vars(module))
        except KeyboardInterrupt:
            raise
        except SystemExit:
            break
        except BaseException as later:
            errors.append((stmt.lineno, failed(later)))
    named = "; ".join(_("line {line}: {error}").format(line=n, error=e) for n, e in errors[:MAX_NAMED])
    if len(errors) > MAX_NAMED:
        named = _("{lines} and {count} more").format(lines=named, count=len(errors) - MAX_NAMED)
    return [_("{file}: the top-level statements that raised were skipped ({errors}); the rest of the file ran, "
              "as a notebook runs its later cells").format(file=file.name, errors=named)]


def _top_level_line(exc: BaseException, file: Path) -> int | None:
    """The line of ``file``'s module code that was running when ``exc`` was raised: the outermost
    such frame (a file that imports itself runs its module code again, deeper)."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "<module>" and Path(code.co_filename) == file:
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def _first_line(stmt: ast.stmt) -> int:
    """Where a statement starts, its decorators included (a decorated ``def`` starts at ``def``)."""
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the file's ``from __future__ import ...`` (each statement compiles alone)."""
    flags = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags
