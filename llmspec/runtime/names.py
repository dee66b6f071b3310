"""Names as learners write them: the book's name in another letter case (``SimpletokenizerV2``,
``create_dataloader_V1``), the book repository's earlier ``create_dataloader``, or a name of their own.

The first two are accepted with a note (unless names are strict); for anything else still missing,
:func:`did_you_mean` ranks what the target defines by name similarity and by signature, and says the
exact ``--impl-map`` that accepts it.  Reads only the target's namespace: nothing is called.
"""
from __future__ import annotations

import difflib
import inspect
import re
import types
from collections.abc import Callable
from typing import Any

from llmspec.errors import TargetError
from llmspec.runtime.resolve import imported_names
from llmspec.i18n import _
from llmspec.stages import BOOK_ALIASES, BOOK_SIGNATURES, CONTRACT_NAMES, EMBEDDINGS_STATE

_PARAMS = re.compile(r"\((.*)\)")


def near_name(contract: str, namespace: dict[str, Any]) -> tuple[str, str] | None:
    """``(name in the namespace, note)`` for a book name written in another letter case, or a name
    the book's own code used for it; ``None`` when there is none (or more than one)."""
    if contract not in BOOK_SIGNATURES:
        return None
    wanted = {contract.lower(), *(a.lower() for a in BOOK_ALIASES.get(contract, ()))}
    found = sorted(n for n in namespace if n.lower() in wanted and n != contract and _is_code(namespace[n]))
    if len(found) != 1:
        return None
    name = found[0]
    if name.lower() == contract.lower():
        why = _("the names differ only in letter case")
    else:
        why = _("the book repository's earlier notebooks call it {name}").format(name=name)
    return name, _("{name} accepted as the book's {contract} ({why}; --strict-names refuses it)").format(
        name=name, contract=contract, why=why)


def defined_by_target(obj: Any, namespace: dict[str, Any]) -> bool:
    """Whether ``obj`` was defined by the target whose namespace this is (its module, or a submodule
    of its package or split chapter), not imported from torch, tiktoken or elsewhere."""
    own = namespace.get("__name__")
    module = getattr(obj, "__module__", None) or ""
    return not own or module == own or module.startswith(own + ".")


def imports_tiktoken(sources: list[str]) -> bool:
    """Whether any of these source texts imports tiktoken (in a function, under a main guard, in a
    notebook cell whose IPython lines were left out: what the learner wrote, not what ran)."""
    return any(name.partition(".")[0] == "tiktoken" for text in sources for name in imported_names(text))


def uses_tiktoken(namespace: dict[str, Any]) -> bool:
    """Whether the target's namespace shows it does 2.5 itself: it holds something of tiktoken's
    (the module under any name, ``get_encoding``, an encoding) or code of its own that names
    ``tiktoken`` (an import inside a function), also in the modules of its own package.  Why: the
    bpe stage runs on GPT-2's encoding when the target names no ``tokenizer`` of its own, and code
    that never uses tiktoken must not pass 2.5 on the checker's copy of it (an empty file would earn
    its points).  The target's source is the other witness (:func:`imports_tiktoken`)."""
    package = f"{namespace.get('__name__') or ''}."
    modules = [m for m in namespace.values() if isinstance(m, types.ModuleType) and _home(m).startswith(package)]
    values = [*namespace.values(), *(v for m in modules for v in vars(m).values())]
    return any(_home(v).split(".")[0] == "tiktoken"
               or (isinstance(v, (type, types.FunctionType)) and defined_by_target(v, namespace) and _names_tiktoken(v))
               for v in values)


def _home(value: Any) -> str:
    """The module a value comes from: a module's own name, a class's or function's module, else its type's."""
    if isinstance(value, types.ModuleType):
        home = getattr(value, "__name__", "")
    elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        home = getattr(value, "__module__", None) or ""
    else:
        home = type(value).__module__
    return home if isinstance(home, str) else ""


def _names_tiktoken(value: Any) -> bool:
    """Whether a function, or a method of a class, names ``tiktoken`` in its code (nested code too)."""
    if isinstance(value, type):
        functions = [f.__func__ if isinstance(f, (staticmethod, classmethod)) else f for f in vars(value).values()]
    else:
        functions = [value]
    codes = [f.__code__ for f in functions if isinstance(f, types.FunctionType)]
    while codes:
        code = codes.pop()
        if "tiktoken" in code.co_names:
            return True
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return False


def static_method_name(contract: str, namespace: dict[str, Any]) -> tuple[str, Any, str] | None:
    """``(Class.name, the function, note)`` when exactly one class the target defines holds the book's
    function as a static or class method (``TorchRunner.create_dataloader_v1``), or as a plain
    function indented into the class body by mistake (its first parameter is not ``self``): called
    as ``Class.name(...)`` either is the book's function.  Methods that take ``self`` do not count."""
    if contract not in BOOK_SIGNATURES or contract[0].isupper():
        return None
    found = [(f"{name}.{contract}", getattr(obj, contract), kind) for name, obj in sorted(namespace.items())
             if inspect.isclass(obj) and defined_by_target(obj, namespace)
             for kind in [_nested_kind(inspect.getattr_static(obj, contract, None))] if kind]
    if len(found) != 1:
        return None
    name, fn, kind = found[0]
    if kind == "static":
        note = _("{name} accepted as the book's {contract} (a static method of your class; the book's is a "
                 "module-level function; --strict-names refuses it)")
    else:
        note = _("{name} accepted as the book's {contract} (it is indented into your class, so it is not a "
                 "module-level function as in the book; called through the class it needs no self; "
                 "--strict-names refuses it)")
    return name, fn, note.format(name=name, contract=contract)


def _nested_kind(attr: Any) -> str | None:
    """``"static"`` for a static or class method, ``"indented"`` for a plain function whose first
    parameter is not ``self``/``cls`` (the book's module-level function, indented one level too far)."""
    if isinstance(attr, (staticmethod, classmethod)):
        return "static"
    if inspect.isfunction(attr):
        params = list(inspect.signature(attr).parameters)
        if params and params[0] not in ("self", "cls"):
            return "indented"
    return None


# The methods of a book class: a class with none of them is not suggested for it (one still being
# written, with ``encode`` and no ``decode`` yet, is).
_INTERFACE = {"SimpleTokenizerV1": ("encode", "decode"), "SimpleTokenizerV2": ("encode", "decode"),
              "GPTDatasetV1": ("__len__", "__getitem__"), "BPETokenizerSimple": ("encode", "decode")}


def did_you_mean(contract: str, namespace: dict[str, Any], taken: set[str]) -> str:
    """One line naming the target's best candidates for a missing ``contract`` name (classes and
    functions the target itself defines, ranked by name similarity and signature), each with the
    ``--impl-map`` that accepts it; ``""`` when nothing is close."""
    book = BOOK_SIGNATURES.get(contract)
    if book is None:
        return ""
    want_class = contract[0].isupper()
    want_arity = _book_arity(book)
    scored = []
    for name, obj in namespace.items():
        if name.startswith("_") or name in taken or not _is_code(obj) or not defined_by_target(obj, namespace):
            continue  # not the learner's code (private, taken, or imported: torch's Dataset, tiktoken's functions)
        methods = [hasattr(obj, m) for m in _INTERFACE.get(contract, ())] if inspect.isclass(obj) else []
        if methods and not any(methods):
            continue  # a class with none of the book's methods is something else (a vocabulary builder)
        similarity = difflib.SequenceMatcher(None, contract.lower(), name.lower()).ratio()
        if similarity < 0.4 and not (methods and all(methods)):
            continue  # a signature alone is no likeness (an attention class beside InputEmbeddings)
        arity = _arity(obj)
        score = similarity + 0.25 * (inspect.isclass(obj) == want_class) + 0.25 * (arity == want_arity)
        if score >= 0.75:
            scored.append((-score, name, _signature(name, obj)))
    if not scored:
        return ""
    hints = [_("{signature} (accept it with --impl-map {contract}={name})").format(
        signature=sig, contract=contract, name=name) for _score, name, sig in sorted(scored)[:2]]
    return _("did you mean {hints}? The book's is {book}").format(hints=" or ".join(hints), book=book)


def call_as_the_book(contract: str, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; when that raises a TypeError because the arguments do not fit
    ``fn``'s own signature (not from deeper inside), the TypeError says the target's signature
    beside the book's: a learner's ``window_size`` for ``max_length`` shows at a glance."""
    try:
        return fn(*args, **kwargs)
    except TypeError as exc:
        try:
            inspect.signature(fn).bind(*args, **kwargs)
        except TypeError:
            raise TypeError(_("{error}; {signatures}").format(
                error=exc, signatures=side_by_side(contract, name, fn))) from None
        except ValueError:
            pass
        raise


def side_by_side(contract: str, name: str, fn: Any) -> str:
    """"yours is f(...), the book's is g(...)": a call that does not fit, shown at a glance."""
    return _("yours is {signature}, the book's is {book}").format(
        signature=_signature(name, fn), book=BOOK_SIGNATURES.get(contract, contract))


def _is_code(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _book_arity(signature: str) -> int:
    match = _PARAMS.search(signature)
    return len([p for p in match.group(1).split(",") if p.strip()]) if match else 0


def signature_of(obj: Any) -> inspect.Signature | None:
    """``inspect.signature(obj)``, or ``None`` where it cannot be read (a builtin, a broken ``__signature__``)."""
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _arity(obj: Any) -> int | None:
    """How many named parameters ``obj`` takes (``*args`` and ``**kwargs`` not counted)."""
    sig = signature_of(obj)
    return None if sig is None else len([p for p in sig.parameters.values()
                                         if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)])


def _signature(name: str, obj: Any) -> str:
    sig = signature_of(obj)
    return f"{name}{'(...)' if sig is None else sig}"


def misspelt(fn: Callable[..., Any], name: str, value: Any) -> str | None:
    """The parameter of ``fn`` that looks like the book's keyword ``name`` misspelt (``suffle`` for
    ``shuffle``) and whose default is not the ``value`` a caller asks by that keyword, or ``None``:
    such a parameter never receives what the book's callers pass, and its default stands instead.
    One whose default is that value (``n_workers=0`` for ``num_workers=0``) does what was asked."""
    sig = signature_of(fn)
    params = {} if sig is None else {k: p for k, p in sig.parameters.items() if k != name}
    close = difflib.get_close_matches(name, list(params), n=1, cutoff=0.8)
    if not close:
        return None
    default = params[close[0]].default
    return None if default is not inspect.Parameter.empty and default == value else close[0]


def accepts_keywords(fn: Callable[..., Any], *names: str) -> list[bool]:
    """For each of ``names``, whether ``fn`` takes that keyword (or ``**kwargs``); True when it cannot
    be told.  One signature read for them all."""
    sig = signature_of(fn)
    if sig is None:
        return [True] * len(names)
    params = sig.parameters.values()
    anything = any(p.kind is p.VAR_KEYWORD for p in params)
    keywords = {p.name for p in params if p.kind is not p.POSITIONAL_ONLY}
    return [anything or name in keywords for name in names]


# --- the contract's names in a target's namespace -----------------------------------------------
_IDENT = re.compile(r"^[A-Za-z_]\w*$")


def parse_impl_map(items: list[str] | str | dict | None) -> dict[str, str]:
    """``["a=b,c=d", "e=f"]`` (or a pyproject table) -> ``{"a": "b", "c": "d", "e": "f"}``;
    ``ValueError`` on a malformed pair (validation of the names is :func:`check_impl_map`'s)."""
    if not items:
        return {}
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for chunk in [items] if isinstance(items, str) else items:
        for pair in filter(None, (p.strip() for p in str(chunk).split(","))):
            if "=" not in pair:
                raise ValueError(f"--impl-map expects NAME=OTHER pairs, got {pair!r}")
            key, value = (s.strip() for s in pair.split("=", 1))
            out[key] = value
    return out


def check_impl_map(impl_map: dict[str, str] | None) -> dict[str, str]:
    """Validate ``--impl-map`` (a contract name, or a variable of the book's inline 2.7-2.8 cells, ->
    the target's name); unknown names are an error."""
    impl_map = dict(impl_map or {})
    unknown = sorted(k for k in impl_map if k not in CONTRACT_NAMES and k not in EMBEDDINGS_STATE)
    if unknown:
        raise TargetError(_("--impl-map: unknown contract name(s) {unknown}; valid: {names}, and the variables of "
                            "the book's 2.7-2.8 cells: {variables}").format(
            unknown=", ".join(unknown), names=", ".join(CONTRACT_NAMES), variables=", ".join(EMBEDDINGS_STATE)))
    bad = sorted(f"{k}={v}" for k, v in impl_map.items() if not _IDENT.match(str(v)))
    if bad:
        raise TargetError(_("--impl-map: not a Python identifier: {names}").format(names=", ".join(bad)))
    return impl_map
