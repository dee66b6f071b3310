"""The variables of the book's inline 2.7-2.8 cells, under the names learners give them.

The book builds 2.7-2.8 with no class (``token_embedding_layer``, ``pos_embedding_layer``), and the
embeddings stage then judges the variables the code left (:data:`llmspec.stages.EMBEDDINGS_STATE`).
Learners rename them (``tok_emb``, ``positional_embedding_layer``) or build them inside a function;
these say so, with the ``--impl-map`` that renames them back.  Read only: nothing of the target is called.
"""
from __future__ import annotations

import difflib
import inspect
import sys
from typing import Any

from llmspec.i18n import _
from llmspec.runtime.names import defined_by_target
from llmspec.stages import EMBEDDINGS_STATE, STAGES


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
