"""Check from inside the notebook: ``%load_ext llmspec`` then ``%llmspec`` (or ``llmspec.check()``).

The check judges the kernel's namespace as it is now, in this process, with the suite ``llmspec check``
runs; no cell is re-executed.  It is a self-check, not grading (a grade is never decided where submission
code ran), and it must not disturb the session (:func:`_session_kept`).  The trusted side stays loaded
between checks, which makes a warm check fast (``benchmarks/bench_kernel.py``).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import shlex
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from llmspec import i18n
from llmspec.errors import HarnessError
from llmspec.i18n import _
from llmspec.editions import AUTO, EDITION_CHOICES, check_edition
from llmspec.stages import parse_stages
from llmspec.verdict import CheckResult

# pytest's own plugins that would touch process-wide state a notebook owns (fd-level capture,
# faulthandler on stderr's fd, root logger handlers) or write files: off for an in-kernel check.
_PYTEST_QUIET = ["-p", "no:terminal", "-p", "no:faulthandler", "-p", "no:logging", "--capture=sys",
                 "-o", "addopts="]


def check(*stages: str, edition: str = AUTO, impl_map: dict[str, str] | None = None,
          lang: str | None = None, namespace: dict[str, Any] | None = None,
          strict_names: bool = False) -> CheckResult:
    """Judge the live namespace: ``check()`` (the default stages), ``check("dataset", "embeddings")``
    or ``check("dataset,embeddings")``; ``ValueError`` for an unknown stage or edition.

    ``namespace``: default the IPython kernel's user namespace, else the caller's globals (a script's
    ``__main__``).  ``lang``: ``en``/``zh``/``ko`` for this check only.  ``edition``: ``auto`` (probed,
    as ``llmspec check`` does), ``print``, ``meap``.  Returns a :class:`~llmspec.verdict.CheckResult`."""
    selection = ",".join(s for part in stages for s in str(part).replace(" ", ",").split(",") if s)
    parse_stages(selection or None)  # ValueError names the valid stages
    check_edition(edition)
    with i18n.switched(lang) as chosen:
        if namespace is None:
            namespace, display = _caller_namespace()
        else:
            display = _("the given namespace")
        report = _run(namespace, display, selection, edition, impl_map, strict_names)
    return CheckResult(report, lang=chosen)


def ipython_shell() -> Any:
    """The running IPython shell, or None; never imports IPython (a check outside Jupyter must not)."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def _caller_namespace() -> tuple[dict[str, Any], str]:
    """The IPython user namespace, else the globals of the first caller frame outside llmspec."""
    shell = ipython_shell()
    if shell is not None:
        return shell.user_ns, _("this kernel's live namespace")
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("llmspec"):
        frame = frame.f_back
    return frame.f_globals, frame.f_globals.get("__name__", "__main__")


def _run(namespace: dict[str, Any], display: str, selection: str, edition: str,
         impl_map: dict[str, str] | None, strict_names: bool) -> dict[str, Any]:
    from llmspec.runtime.inprocess import InProcessAdapter
    from llmspec.runtime.target import from_namespace
    from llmspec.suite import run_suite

    args = [*_PYTEST_QUIET, "--edition", edition] + (["--stages", selection] if selection else [])
    args += ["--strict-names"] if strict_names else []
    with _session_kept():
        adapter = InProcessAdapter(from_namespace(namespace, display, impl_map, strict_names))
        try:
            code, report = run_suite(args, adapter, display)
        finally:
            adapter.close()
    if report is None:
        raise RuntimeError(_("llmspec check: the suite did not run (pytest exit code {code})").format(code=code))
    return report


# --- the learner's session is put back as it was -------------------------------------------------
@contextlib.contextmanager
def _session_kept() -> Iterator[None]:
    """Run the block, then restore what a suite run changes in the process (the plugin puts
    Hypothesis back).  Modules the learner had stay the very same objects; modules first imported by
    the check (pytest, Hypothesis, the suite) stay loaded, as a cache for the next check."""
    import torch

    saved_modules = dict(sys.modules)
    saved_path, saved_meta = list(sys.path), list(sys.meta_path)
    saved_env = dict(os.environ)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_warnings = (list(warnings.filters), warnings.showwarning)
    frozen = gc.get_freeze_count()
    # each value with what puts it back: recursion limit, RNG states, torch's modes, working directory
    restore: list[tuple[Any, Any]] = [
        (sys.setrecursionlimit, sys.getrecursionlimit()), (torch.set_rng_state, torch.get_rng_state()),
        (torch.set_grad_enabled, torch.is_grad_enabled()), (torch.set_default_dtype, torch.get_default_dtype()),
        (random.setstate, random.getstate()), (os.chdir, os.getcwd())]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        restore.append((numpy.random.set_state, numpy.random.get_state()))
    try:
        yield
    finally:
        if not frozen:  # the plugin froze the heap for its own run (counting it again costs ~20 ms)
            gc.unfreeze()
        warnings.filters[:], warnings.showwarning = saved_warnings
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        for put_back, value in restore:
            put_back(value)
        # llmspec's own import hooks stay, as its modules do (the book-download answers, installed once)
        ours = [f for f in sys.meta_path if f not in saved_meta and type(f).__module__.startswith("llmspec.")]
        sys.path[:], sys.meta_path[:] = saved_path, ours + saved_meta
        for name, module in saved_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module


# --- IPython: %load_ext llmspec, %llmspec ----------------------------------------------------------
def magic(line: str) -> CheckResult | None:
    """``%llmspec [STAGE ...] [--edition meap] [--lang zh] [--impl-map a=b]``; a usage error is
    printed as one line (a notebook cell should not show a traceback for a typo)."""
    from llmspec.commands import add_language_option
    from llmspec.runtime.names import parse_impl_map

    parser = argparse.ArgumentParser(prog="%llmspec", add_help=False)  # a usage error prints the usage only
    parser.add_argument("stages", nargs="*")
    parser.add_argument("--edition", choices=EDITION_CHOICES, default=AUTO)
    parser.add_argument("--strict-names", action="store_true")
    add_language_option(parser)
    parser.add_argument("--impl-map", action="append", default=[])
    try:
        args, unknown = parser.parse_known_args(shlex.split(line))
        if unknown:
            raise ValueError(_("unknown option(s) {options}").format(options=" ".join(unknown)))
        return check(*args.stages, edition=args.edition, lang=args.lang, strict_names=args.strict_names,
                     impl_map=parse_impl_map(args.impl_map) or None)
    except SystemExit:  # argparse already printed the usage line
        return None
    except (ValueError, HarnessError) as exc:  # a bad stage, a bad --impl-map, the data missing
        print(f"%llmspec: {exc}", file=sys.stderr)
        return None


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext llmspec``: register ``%llmspec`` and seed tiktoken's offline cache, so the book's
    ``tiktoken.get_encoding("gpt2")`` cells run offline too (missing data: the first check says it)."""
    from llmspec.data import ensure_tiktoken_cache

    shell.register_magic_function(magic, magic_kind="line", magic_name="llmspec")
    with contextlib.suppress(HarnessError):
        ensure_tiktoken_cache()
