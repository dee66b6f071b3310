"""Mutation testing of the spec suite: first-order mutants of ``reference/*.py``, each judged by the
spec suite (``pytest spec_tests --impl <mutant> --stages <its stages>``).  A mutant the suite lets
pass ("survives") is either a hole in the suite or equivalent to the reference; the equivalent ones
are listed, each with a reason, in ``equivalent.txt`` beside this file.

Operators: arithmetic, comparison and boolean operators swapped, constants moved by one or emptied,
keyword arguments and statements dropped, conditions negated; and, for the bugs chapter 2 really
has, one alternative or class item dropped from a regular expression (``operators.py``),
``range()`` start/stop/step and slice bounds moved by one, two adjacent positional arguments
swapped.  Every surviving mutant not on the equivalent list fails the run, in every file.

Why hand-written (about 250 lines) instead of mutmut or cosmic-ray: the suite must judge each mutant
*as a submission* (through ``--impl``, the trusted side keeping the unmutated reference for its
expectations), which neither tool does without a custom runner anyway; a mutant must run only the
stages its file feeds; and the ids must stay stable across unrelated edits so the equivalent list
does not rot.  Both tools would be a new dependency for a loop this small.

How a mutant runs: the reference package is copied to ``<tmp>/mref`` (its absolute ``reference.*``
imports renamed, so the mutant never mixes with the trusted ``reference`` that computes the
expectations), one node of one file is changed, and a child process **forked** from a warm parent
(torch, tiktoken, hypothesis, pytest and llmspec already imported; no mutant code ever imported in
it) runs ``pytest.main`` once, ``-x -q -p no:cacheprovider``, derandomized, under a wall-clock
timeout.  Forking gives every mutant a pristine interpreter for ~0.1 s instead of ~2 s of imports.

    python tests/suite/mutation/mutate.py                      # every mutant, the table, exit 1 on a new survivor
    python tests/suite/mutation/mutate.py --files bpe_scratch.py   # one reference file
    python tests/suite/mutation/mutate.py --files dataset.py --list
    python tests/suite/mutation/mutate.py --sample 12          # the deterministic CI sample
    python tests/suite/mutation/mutate.py --only 'dataset.py::create_dataloader_v1::*'
"""
from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operators  # noqa: E402  (sibling module; tests/ is not a package)

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "reference"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
PACKAGE = "mref"

# file -> runs: (edition, impl module under the mutant package, stages)
RUNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "tokenizers.py": (("print", PACKAGE, "tokenizer_v1,tokenizer_v2"),
                      ("meap", f"{PACKAGE}.meap", "tokenizer_v1,tokenizer_v2")),
    "meap.py": (("meap", f"{PACKAGE}.meap", "tokenizer_v1,tokenizer_v2"),),
    "bpe.py": (("print", PACKAGE, "bpe,dataset,dataloader"),),
    "dataset.py": (("print", PACKAGE, "dataset,dataloader"),),
    "embeddings.py": (("print", PACKAGE, "embeddings"),),
    "bpe_scratch.py": (("print", PACKAGE, "bpe_scratch"),),
    "pretokenizer.py": (("print", PACKAGE, "bpe_scratch"),),
    "__init__.py": (("print", PACKAGE, "all"),),
}
# Not mutated, by name: code that never runs when the suite judges a submission.  NEWER_LETTERS,
# NEWER_NUMBERS, derive_ranges and _runs only regenerate the committed LETTER_RANGES/NUMBER_RANGES
# tables (tests/unit/reference/test_pretokenizer.py re-derives and compares them); 180 of their constants
# would otherwise sit on the equivalent list.
NOT_MUTATED: dict[str, frozenset[str]] = {
    "pretokenizer.py": frozenset({"NEWER_LETTERS", "NEWER_NUMBERS", "derive_ranges", "_runs"}),
}

_SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
             ast.Div: ast.Mult, ast.Mod: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr,
             ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.Pow: ast.Mult}
_SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    file: str
    id: str  # file::scope::operator::detail#k (stable across edits elsewhere in the file)
    line: int
    path: tuple[tuple[str, int | None], ...]  # where the node sits (field, index) from the module
    op: str
    detail: str


def _skipped(tree: ast.AST) -> set[int]:
    """Nodes never mutated: docstrings, and error messages (the exception built by a ``raise``
    statement, the text of f-strings), which the contract leaves free."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            out.add(id(node.exc))
        if isinstance(node, ast.JoinedStr):
            out.update(id(n) for n in node.values if isinstance(n, ast.Constant))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def _edits(node: ast.AST, regex: str | None = None) -> Iterator[tuple[str, str]]:
    """``(operator, detail)`` for every first-order change of this one node (``regex``: the node is a
    string used as a regular expression, :mod:`operators`)."""
    if regex is not None:
        for detail, _new in operators.variants(node, regex):
            yield "regex", detail
    yield from operators.call_edits(node)
    if isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BIN:
        yield "binop", f"{type(node.op).__name__}->{_SWAP_BIN[type(node.op)].__name__}"
    elif isinstance(node, ast.AugAssign) and type(node.op) in _SWAP_BIN:
        yield "augop", f"{type(node.op).__name__}->{_SWAP_BIN[type(node.op)].__name__}"
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _SWAP_CMP:
                yield "cmp", f"{i}:{type(op).__name__}->{_SWAP_CMP[type(op)].__name__}"
    elif isinstance(node, ast.BoolOp):
        yield "boolop", f"{type(node.op).__name__}->{'Or' if isinstance(node.op, ast.And) else 'And'}"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield "unary", f"drop {type(node.op).__name__}"
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            yield "const", f"{v}->{not v}"
        elif isinstance(v, int):
            yield "const", f"{v}->{v + 1}"
            if v != 0:
                yield "const", f"{v}->{v - 1}" if v != 1 else "1->0"
        elif isinstance(v, str):
            yield "const", "str->''" if v else "''->'x'"
        elif v is None:
            pass
    elif isinstance(node, ast.Call):
        for k in node.keywords:
            if k.arg is not None:
                yield "kwarg", f"drop {k.arg}="
    elif isinstance(node, (ast.Expr, ast.AugAssign)) and not isinstance(getattr(node, "value", None), ast.Constant):
        yield "stmt", "delete"
    elif isinstance(node, (ast.Break, ast.Continue)):
        yield "stmt", f"{type(node).__name__}->pass"
    elif isinstance(node, ast.Return) and node.value is not None:
        pass
    if isinstance(node, ast.If):
        yield "if", "negate"


def _walk(node: ast.AST, path: tuple, scope: str, skip: set[int]) -> Iterator[tuple[ast.AST, tuple, str]]:
    yield node, path, scope
    for field, value in ast.iter_fields(node):
        if field == "annotation" or field == "returns" or isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        inner = scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = f"{scope}.{node.name}" if scope != "<module>" else node.name
        items = [(i, v) for i, v in enumerate(value)] if isinstance(value, list) else [(None, value)]
        for i, v in items:
            if isinstance(v, ast.AST) and id(v) not in skip:
                yield from _walk(v, path + ((field, i),), inner, skip)


def _not_mutated(tree: ast.Module, names: frozenset[str]) -> set[int]:
    out = set()
    for node in tree.body:
        named = {node.name} if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else {
            t.id for t in getattr(node, "targets", [getattr(node, "target", None)]) if isinstance(t, ast.Name)}
        if named & names:
            out.add(id(node))
    return out


def mutants(file: str) -> list[Mutant]:
    tree = ast.parse((REFERENCE / file).read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = []
    skip = _skipped(tree) | _not_mutated(tree, NOT_MUTATED.get(file, frozenset()))
    regexes = operators.regex_strings(tree)
    for node, path, scope in _walk(tree, (), "<module>", skip):
        if any(f == "decorator_list" for f, _ in path):
            continue
        for op, detail in _edits(node, regexes.get(id(node))):
            key = f"{file}::{scope}::{op}::{detail}"
            seen[key] = seen.get(key, 0) + 1
            out.append(Mutant(file, f"{key}#{seen[key]}", getattr(node, "lineno", 0), path + (("edit", None),),
                              op, detail))
    return out


def _node_at(tree: ast.AST, path: tuple) -> ast.AST:
    node = tree
    for field, i in path[:-1]:
        value = getattr(node, field)
        node = value[i] if i is not None else value
    return node


def apply(m: Mutant) -> str:
    """The mutated source of ``m.file``."""
    tree = ast.parse((REFERENCE / m.file).read_text(encoding="utf-8"))
    node = _node_at(tree, m.path)
    op, detail = m.op, m.detail
    if op in ("binop", "augop"):
        node.op = _SWAP_BIN[type(node.op)]()
    elif op == "cmp":
        i = int(detail.split(":")[0])
        node.ops[i] = _SWAP_CMP[type(node.ops[i])]()
    elif op == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif op == "unary":
        _replace(tree, m.path, node.operand)
    elif op == "const":
        v = node.value
        node.value = (not v) if isinstance(v, bool) else (int(detail.split("->")[1]) if isinstance(v, int)
                                                          else ("" if v else "x"))
    elif op == "kwarg":
        name = detail[len("drop "):-1]
        node.keywords = [k for k in node.keywords if k.arg != name]
    elif op == "stmt":
        _replace(tree, m.path, ast.Pass())
    elif op == "if":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif op == "regex":
        kind = operators.regex_strings(tree)[id(node)]
        _replace(tree, m.path, next(new for d, new in operators.variants(node, kind) if d == detail))
    elif op in ("range", "swap", "slice"):
        operators.apply_call_edit(node, op, detail)
    return ast.unparse(ast.fix_missing_locations(tree))


def _replace(tree: ast.AST, path: tuple, new: ast.AST) -> None:
    parent = _node_at(tree, path[:-1])
    field, i = path[-2]
    if i is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[i] = new


def _rename_imports(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module == "reference"
                                                                   or node.module.startswith("reference.")):
            node.module = PACKAGE + node.module[len("reference"):]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "reference" or a.name.startswith("reference."):
                    a.asname = a.asname or (a.name.split(".")[0] if "." not in a.name else None)
                    a.name = PACKAGE + a.name[len("reference"):]
    return ast.unparse(tree)


def write_package(dest: Path, m: Mutant | None) -> Path:
    pkg = dest / PACKAGE
    if pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir(parents=True)
    for f in RUNS:
        src = apply(m) if m is not None and m.file == f else (REFERENCE / f).read_text(encoding="utf-8")
        (pkg / f).write_text(_rename_imports(src), encoding="utf-8")
    return pkg


def load_equivalent() -> dict[str, str]:
    out = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        mid, _, reason = line.partition("  # ")
        out[mid.strip()] = reason.strip()
    return out


def _run_child(workdir: Path, edition: str, impl: str, stages: str, log: Path) -> int:
    """In a forked child: pytest.main on the mutant; returns pytest's exit code."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.path.insert(0, str(workdir))
    # the harness's own scratch folders go under the run's folder: a mutant killed for its time
    # cannot remove them, and the run's folder is removed at the end (the parent's cached choice of
    # temporary folder is forgotten first: the child was forked from it)
    scratch = workdir / "tmp"
    scratch.mkdir(exist_ok=True)
    os.environ["TMPDIR"], tempfile.tempdir = str(scratch), None
    os.chdir(ROOT)
    import pytest

    return int(pytest.main(["spec_tests", "--impl", impl, "--stages", stages, "--edition", edition,
                            "-x", "-q", "-p", "no:cacheprovider", "--no-header", "-p", "no:randomly"]))


def judge(m: Mutant | None, workdir: Path, timeout: float, file: str | None = None) -> tuple[str, float, str]:
    """``("killed" | "survived" | "timeout", seconds, first failing test)`` for one mutant
    (``m=None``: the unmutated copy, run as ``file``'s mutants are)."""
    write_package(workdir, m)
    t0 = time.monotonic()
    log = workdir / "log.txt"
    for edition, impl, stages in RUNS[m.file if m else file or "__init__.py"]:
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = _run_child(workdir, edition, impl, stages, log)
            finally:
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", time.monotonic() - t0, ""
            time.sleep(0.05)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            lines = log.read_text(errors="replace").splitlines()
            failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
            # 1 = a test failed; anything else (usage error, no tests, a crash) is the runner's problem
            verdict = "killed" if code == 1 and failed else "error"
            return verdict, time.monotonic() - t0, (failed[0][:160] if failed else f"exit {code}: {lines[-1:]}")
    return "survived", time.monotonic() - t0, ""


def _warm() -> None:
    """Import everything a run needs once, in the parent, so each forked child starts warm."""
    os.environ.setdefault("LLMSPEC_DATA", str(ROOT.parent / "shared" / "data"))
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import tiktoken  # noqa: F401
    import torch  # noqa: F401

    import llmspec.plugin  # noqa: F401
    import reference.bpe_scratch  # noqa: F401  (the trusted side's, never a mutant)
    import reference.tokenizers  # noqa: F401
    from llmspec import data

    data.gpt2_encoding()


def sample(ms: list[Mutant], n: int) -> list[Mutant]:
    """``n`` mutants chosen by a hash of their id: the same sample on every run and machine."""
    return sorted(ms, key=lambda m: hashlib.sha256(m.id.encode()).hexdigest())[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default=",".join(RUNS), help="reference files to mutate (comma list)")
    ap.add_argument("--only", default=None, help="fnmatch pattern over mutant ids")
    ap.add_argument("--sample", type=int, default=None, help="a deterministic sample of N mutants")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant (a timeout counts as killed)")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--show", default=None, help="print the diff-able source of one mutant id")
    ap.add_argument("--json", default=None, help="write every verdict to this JSON file")
    args = ap.parse_args(argv)
    files = [f.strip() for f in args.files.split(",") if f.strip()]
    ms = [m for f in files for m in mutants(f)]
    if args.only:
        ms = [m for m in ms if fnmatch.fnmatchcase(m.id, args.only)]
    if args.sample:
        ms = sample(ms, args.sample)
    if args.show:
        (m,) = [m for m in ms if m.id == args.show]
        print(apply(m))
        return 0
    if args.list:
        for m in ms:
            print(f"{m.id}  (line {m.line})")
        print(f"{len(ms)} mutants")
        return 0
    equivalent = load_equivalent()
    _warm()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="llmspec-mutants-") as tmp:
        work = Path(tmp)
        for f in sorted({m.file for m in ms}):  # the unmutated copy must pass, or no verdict below means anything
            status, secs, why = judge(None, work, args.timeout, f)
            print(f"baseline {f}: {status} in {secs:.1f}s {why}", flush=True)
            if status != "survived":
                print((work / "log.txt").read_text(errors="replace")[-3000:])
                return 2
        for k, m in enumerate(ms, 1):
            status, secs, why = judge(m, work, args.timeout)
            results[m.id] = {"file": m.file, "line": m.line, "status": status, "seconds": round(secs, 2),
                             "failed": why, "equivalent": m.id in equivalent}
            mark = "EQUIVALENT" if status == "survived" and m.id in equivalent else status.upper()
            print(f"[{k}/{len(ms)}] {mark:10} {secs:5.1f}s {m.id} (line {m.line}) {why}", flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return report(results, equivalent, files)


def report(results: dict[str, dict], equivalent: dict[str, str], files: list[str]) -> int:
    """The table per file and the verdict: a survivor not on the equivalent list fails, in every
    file (bpe_scratch.py's and pretokenizer.py's included: their regexes and training are held to
    the same bar)."""
    print(f"\n{'file':16} {'mutants':>7} {'killed':>7} {'timeout':>7} {'equiv.':>7} {'survived':>8} {'score':>7}")
    bad = False
    new_survivors = []
    for f in files:
        rs = {k: r for k, r in results.items() if r["file"] == f}
        if not rs:
            continue
        killed = sum(r["status"] == "killed" for r in rs.values())
        timeout = sum(r["status"] == "timeout" for r in rs.values())
        equiv = sum(r["status"] == "survived" and r["equivalent"] for r in rs.values())
        surv = [k for k, r in rs.items() if r["status"] == "survived" and not r["equivalent"]]
        scored = len(rs) - equiv
        score = 100.0 * (killed + timeout) / scored if scored else 100.0
        print(f"{f:16} {len(rs):7} {killed:7} {timeout:7} {equiv:7} {len(surv):8} {score:6.1f}%")
        new_survivors += surv
        if surv:
            bad = True
    stale = [k for k, r in results.items() if r["equivalent"] and r["status"] != "survived"]
    errors = [k for k, r in results.items() if r["status"] == "error"]
    for k in errors:
        print(f"ERROR (the run itself failed, not a test): {k}: {results[k]['failed']}")
    for k in new_survivors:
        print(f"SURVIVED (not on {EQUIVALENT.name}): {k} (line {results[k]['line']})")
    for k in stale:
        print(f"KILLED but listed as equivalent (remove it from {EQUIVALENT.name}): {k}")
    return 1 if bad or stale or errors else 0


if __name__ == "__main__":
    sys.exit(main())
