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
import sys
import types
from collections.abc import Callable
from typing import Any

from llmspec.errors import TargetError
from llmspec.runtime.resolve import TargetSpec, imported_names
from llmspec.i18n import _
from llmspec.stages import BOOK_ALIASES, BOOK_SIGNATURES, CONTRACT_NAMES, EMBEDDINGS_STATE, STAGES

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


# The methods a class standing for a book class must have to be suggested for it.
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
        if inspect.isclass(obj) and not all(hasattr(obj, m) for m in _INTERFACE.get(contract, ())):
            continue  # a class without the book's methods is something else (a vocabulary builder)
        similarity = difflib.SequenceMatcher(None, contract.lower(), name.lower()).ratio()
        arity = _arity(obj)
        score = similarity + 0.25 * (inspect.isclass(obj) == want_class) + 0.25 * (arity == want_arity)
        if score >= 0.75:
            scored.append((-score, name, _signature(name, obj)))
    if not scored:
        return ""
    hints = [_("{signature} (accept it with --impl-map {contract}={name})").format(
        signature=sig, contract=contract, name=name) for _score, name, sig in sorted(scored)[:2]]
    return _("did you mean {hints}? The book's is {book}").format(hints=" or ".join(hints), book=book)


def local_state_hint(contract: str, namespace: dict[str, Any]) -> str:
    """For a stage judged from state (the book's inline cells): when none of its variables is in the
    namespace but a function the target defines builds them as *local* variables (say the 2.7-2.8
    layers inside ``def embed(...)``), one line saying so; ``""`` otherwise.  Read from the
    functions' code objects (their local names), so nothing of the target is called."""
    state_names = next((st.state_names for st in STAGES.values() if contract in st.names), ())
    if not state_names or any(n in namespace for n in state_names):
        return ""
    holders = []
    for name, obj in sorted(namespace.items()):
        if not defined_by_target(obj, namespace):
            continue
        fns = [(name, obj)] if inspect.isfunction(obj) else \
            [(f"{name}.{k}", v) for k, v in vars(obj).items() if inspect.isfunction(v)] if inspect.isclass(obj) else []
        holders += [n for n, fn in fns if set(state_names) <= set(fn.__code__.co_varnames)]
    if not holders:
        return ""
    return _("{names} are local variables of {function}(), so the variables the book's cells leave are not there "
             "to judge: assign them at the top level, as the book's cells do, or write the class {contract}").format(
                 names=" and ".join(state_names), function=holders[0], contract=contract)


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


def misspelt(fn: Callable[..., Any], name: str) -> str | None:
    """The parameter of ``fn`` that looks like the book's keyword ``name`` misspelt (``suffle`` for
    ``shuffle``), or ``None``: such a parameter never receives what the book's callers pass."""
    sig = signature_of(fn)
    params = [] if sig is None else [p for p in sig.parameters if p != name]
    close = difflib.get_close_matches(name, params, n=1, cutoff=0.8)
    return close[0] if close else None


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
        raise TargetError(
            f"--impl-map: unknown contract name(s) {', '.join(unknown)}; valid: {', '.join(CONTRACT_NAMES)}, "
            f"and the variables of the book's 2.7-2.8 cells: {', '.join(EMBEDDINGS_STATE)}"
        )
    bad = sorted(f"{k}={v}" for k, v in impl_map.items() if not _IDENT.match(str(v)))
    if bad:
        raise TargetError(_("--impl-map: not a Python identifier: {names}").format(names=", ".join(bad)))
    return impl_map


def find_names(spec: TargetSpec, namespace: dict[str, object], impl_map: dict[str, str],
                notes: list[str], lazy: dict[str, object],
                strict_names: bool) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each contract name (after ``impl_map``) -> the name found in ``namespace`` (or a near name,
    with a note), or ``None``; and a did-you-mean hint for each name still missing."""
    names: dict[str, str | None] = {}
    for contract in CONTRACT_NAMES:
        wanted = impl_map.get(contract, contract)
        found = wanted in namespace or _module_getattr(namespace, wanted, lazy)
        if not (found or strict_names or contract in impl_map):
            near = near_name(contract, namespace)
            nested = None if near else static_method_name(contract, namespace)
            if nested is not None:  # reached through its class: kept beside the namespace
                lazy[nested[0]] = nested[1]
                near = nested[0], nested[2]
            if near is not None:
                (wanted, note), found = near, True
                notes.append(note)
        names[contract] = wanted if found else None
        if contract in impl_map and not found:
            notes.append(_("--impl-map {contract}={name}: {target} defines no '{name}'").format(
                contract=contract, name=wanted, target=spec.display))
    alias = state_aliases(impl_map)
    for book, own in alias.items():
        if own not in namespace:
            notes.append(_("--impl-map {contract}={name}: {target} defines no '{name}'").format(
                contract=book, name=own, target=spec.display))
    taken = {n for n in names.values() if n is not None}
    hints = {c: h for c in CONTRACT_NAMES if names[c] is None
             for h in [did_you_mean(c, namespace, taken) or local_state_hint(c, namespace)] if h}
    if names["InputEmbeddings"] is None:
        hints.update(state_hints(namespace, alias, hints.get("InputEmbeddings")))
    return names, hints


def state_aliases(impl_map: dict[str, str]) -> dict[str, str]:
    """The ``--impl-map`` pairs that rename a variable of the book's inline 2.7-2.8 cells."""
    return {k: v for k, v in impl_map.items() if k in EMBEDDINGS_STATE}


_ROLE = {"token_embedding_layer": ("tok", "word"), "pos_embedding_layer": ("pos",)}


def state_hints(namespace: dict[str, Any], alias: dict[str, str], class_hint: str | None) -> dict[str, str]:
    """Did-you-mean lines for the layers of the book's 2.8 cells under names of the learner's own
    (``positional_embedding_layer``, ``tok_emb``): top-level ``torch.nn.Embedding`` objects ranked by
    name.  Keyed by the missing book variable when the stage is judged from state (one of its
    variables is there), else by ``InputEmbeddings`` (the stage reads as not implemented), unless
    ``class_hint`` already says something there."""
    torch = sys.modules.get("torch")  # no Embedding can exist before torch is imported
    required = STAGES["embeddings"].state_names
    missing = [n for n in required if alias.get(n, n) not in namespace]
    if torch is None or not missing:
        return {}
    layers = {name: obj for name, obj in namespace.items() if isinstance(obj, torch.nn.Embedding)
              and not name.startswith("_") and name not in EMBEDDINGS_STATE and name not in alias.values()}
    scored = []
    for book in missing:
        for name, layer in layers.items():
            role = any(r in name.lower() for r in _ROLE[book])
            other = any(r in name.lower() for other in required if other != book for r in _ROLE[other])
            score = difflib.SequenceMatcher(None, book, name.lower()).ratio() + 0.5 * role - 0.5 * other
            if role or score >= 0.75:
                shape = (getattr(layer, "num_embeddings", "?"), getattr(layer, "embedding_dim", "?"))
                scored.append((-score, book, name, shape))
    picked: dict[str, tuple[str, tuple[int, ...]]] = {}
    for _score, book, name, shape in sorted(scored):
        if book not in picked and name not in (n for n, _shape in picked.values()):
            picked[book] = name, shape
    if not picked:
        return {}
    found = [(book, *picked[book]) for book in required if book in picked]
    if len(missing) < len(required):  # judged from state: each missing variable gets its line
        return {book: _("did you mean {name}, a torch.nn.Embedding{shape}? (accept it with --impl-map "
                        "{book}={name})").format(name=name, shape=shape, book=book) for book, name, shape in found}
    if class_hint:
        return {}
    return {"InputEmbeddings": _("your code leaves {layers}: if these are the book's 2.8 layers under names of your "
                                 "own, judge them with --impl-map {pairs}").format(
        layers=", ".join(f"{name} = torch.nn.Embedding{shape}" for _book, name, shape in found),
        pairs=",".join(f"{book}={name}" for book, name, _shape in found))}


def _module_getattr(namespace: dict[str, object], name: str, lazy: dict[str, object]) -> bool:
    """PEP 562: a module may supply names lazily (the reference creates ``tokenizer`` on first
    access).  Ask its ``__getattr__``; a name it cannot supply is simply missing."""
    hook = namespace.get("__getattr__")
    if not callable(hook):
        return False
    try:
        lazy[name] = hook(name)
    except Exception:
        return False
    return True
