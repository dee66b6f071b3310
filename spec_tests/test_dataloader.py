"""Stage ``dataloader``: ``create_dataloader_v1`` (section 2.6, Listing 2.6).

Called by keyword (copies of the book differ in defaults and order).  With K windows in the dataset
and batch size B the loader yields ``K // B`` full batches with ``drop_last``, else ``ceil(K / B)``
(the last one holding the rest); ``shuffle=False`` keeps dataset order; ``shuffle=True`` yields a
permutation of the same windows, reproducible under ``torch.manual_seed``.
"""
from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from llmspec import explain
from llmspec.errors import ImplError
from llmspec.i18n import _
from spec_tests import strategies as S
from spec_tests._expect import book_windows

pytestmark = pytest.mark.dataloader
STAGE = "dataloader"


def batches(impl, txt, **kw):
    __tracebackhide__ = True
    try:
        return impl.dataloader_batches(txt, **kw)
    except ImplError as err:
        args = ", ".join(f"{k}={v!r}" for k, v in kw.items() if k in ("batch_size", "max_length", "stride",
                                                                        "shuffle", "drop_last", "num_workers"))
        explain.impl_raised(f"create_dataloader_v1(txt, {args}) or iterating it", err, stage=STAGE)


def rows(result: dict) -> list[tuple[list[int], list[int]]]:
    """All (input row, target row) pairs of the loader's batches, in order."""
    return [(x.tolist(), y.tolist()) for bx, by in result["batches"] for x, y in zip(bx, by)]


@pytest.mark.golden("dataset", has=("batch_size",))
def test_golden_batches(impl, gpt2, verdict_text, case):
    """The batches the documents print (``shuffle=False``)."""
    inp, exp, src = case["input"], case["expected"], case.get("source")
    txt = verdict_text if inp.get("text_file") == "the-verdict.txt" else inp["text"]
    want = exp.get("batches") or [[exp["inputs"], None]]
    got = batches(impl, txt, batch_size=inp["batch_size"], max_length=inp["max_length"],
                  stride=inp["stride"], shuffle=False, drop_last=inp.get("drop_last", True),
                  max_batches=len(want))
    explain.expect(len(got["batches"]) >= len(want), f"the loader yielded {len(got['batches'])} batches",
                   stage=STAGE, source=src)
    for b, ((wx, wy), (x, y)) in enumerate(zip(want, got["batches"])):
        explain.check_tensor(f"batch {b} inputs", torch.tensor(wx), x, stage=STAGE, source=src)
        if wy is not None:
            explain.check_tensor(f"batch {b} targets", torch.tensor(wy), y, stage=STAGE, source=src)


@st.composite
def loader_case(draw):
    """A slice of the story (so the real GPT-2 tokenizer runs) plus loader arguments."""
    kw = draw(S.loader_params())
    start = draw(st.integers(0, 2000))
    length = draw(st.integers(kw["max_length"] * 4 + 8, 400))
    return kw, start, length


@given(case=loader_case(), drop_last=st.booleans())
@S.scaled(0.5)
@example(case=({"batch_size": 4, "max_length": 4, "stride": 4}, 0, 120), drop_last=False)
@example(case=({"batch_size": 3, "max_length": 2, "stride": 5}, 0, 100), drop_last=True)
def test_order_count_and_shapes(impl, gpt2, verdict_text, case, drop_last):
    """P20/P21/P24: shuffle=False yields the dataset's windows in order, ``[batch_size, max_length]``
    batches (``K // B`` with drop_last, else ``ceil(K / B)`` with the rest in the last batch)."""
    kw, start, length = case
    txt = verdict_text[start:start + length]
    ids = gpt2.encode(txt, allowed_special={S.EOT})
    windows = book_windows(ids, kw["max_length"], kw["stride"])
    k, bs = len(windows), kw["batch_size"]
    got = batches(impl, txt, shuffle=False, drop_last=drop_last, **kw)
    drop_last = bool(got.get("drop_last", drop_last))  # False for a loader without the parameter (left open)
    count = k // bs if drop_last else math.ceil(k / bs)
    given = f"{k} windows, batch_size={bs}, drop_last={drop_last}"
    explain.expect(len(got["batches"]) == count, f"the loader yielded {len(got['batches'])} batches for "
                   f"{given}; expected {count}", stage=STAGE)
    for b, (x, y) in enumerate(got["batches"]):
        size = bs if (b + 1) * bs <= k else k - b * bs
        for name, t in (("inputs", x), ("targets", y)):
            explain.expect(isinstance(t, torch.Tensor) and list(t.shape) == [size, kw["max_length"]]
                           and t.dtype == torch.long,
                           f"batch {b} {name}: {getattr(t, 'dtype', type(t))} of shape "
                           f"{list(getattr(t, 'shape', []))}, expected torch.int64 [{size}, "
                           f"{kw['max_length']}] ({given})", stage=STAGE)
    want = windows[: count * bs]
    got_rows = rows(got)
    for i, ((wx, wy), (x, y)) in enumerate(zip(want, got_rows)):
        explain.check_ids(f"row {i} of the shuffle=False batches (inputs)", wx, x, stage=STAGE,
                          decode=gpt2.decode, given=given)
        explain.check_ids(f"row {i} of the shuffle=False batches (targets)", wy, y, stage=STAGE,
                          decode=gpt2.decode, given=given)


@given(case=loader_case(), drop_last=st.booleans(), seed=st.integers(0, 1000))
@S.scaled(0.3)
@example(case=({"batch_size": 2, "max_length": 4, "stride": 4}, 0, 200), drop_last=False, seed=123)
def test_shuffle_is_a_seeded_permutation(impl, gpt2, verdict_text, case, drop_last, seed):
    """P22/P23: shuffle=True yields the same windows (a permutation; with drop_last a full-batch
    subset), and the same seed yields the same batches."""
    kw, start, length = case
    txt = verdict_text[start:start + length]
    ids = gpt2.encode(txt, allowed_special={S.EOT})
    in_order = book_windows(ids, kw["max_length"], kw["stride"])
    first = batches(impl, txt, shuffle=True, drop_last=drop_last, seed=seed, **kw)
    again = batches(impl, txt, shuffle=True, drop_last=drop_last, seed=seed, **kw)
    got = rows(first)
    drop_last = bool(first.get("drop_last", drop_last))  # False for a loader without the parameter (left open)
    want_n = (len(in_order) // kw["batch_size"]) * kw["batch_size"] if drop_last else len(in_order)
    explain.expect(len(got) == want_n, f"shuffle=True yielded {len(got)} rows from {len(in_order)} windows "
                   f"(batch_size={kw['batch_size']}, drop_last={drop_last}), expected {want_n}", stage=STAGE)
    left_over = Counter(map(repr, in_order))
    left_over.subtract(map(repr, got))
    explain.expect(min(left_over.values(), default=0) >= 0,
                   "shuffle=True must yield the dataset's windows in some order, each at most once; got "
                   f"rows that are not windows (or repeats): {explain.short([k for k, v in left_over.items() if v < 0])}",
                   stage=STAGE)
    if len(got) >= 10:  # a true shuffle keeps dataset order with probability <= 1/10!
        explain.expect(got != in_order[: len(got)], f"shuffle=True yielded {len(got)} windows in dataset "
                       "order: pass shuffle to the DataLoader", stage=STAGE)
    explain.expect(got == rows(again), f"two runs after torch.manual_seed({seed}) gave different batches: "
                   "shuffle must use torch's global RNG (no fixed or unseeded generator)", stage=STAGE)


def test_shuffle_order_follows_the_seed(impl, gpt2, verdict_text):
    """P22/P23 without Hypothesis: over the 64 windows of the story's first 1000 characters,
    ``shuffle=True`` under seeds 1 and 2 yields two different permutations of all windows, neither
    in dataset order (each happens to a correct loader with probability 1/64!): shuffle is passed
    on, and drawn from torch's seeded global RNG, not a fixed generator."""
    txt = verdict_text[:1000]
    ids = gpt2.encode(txt, allowed_special={S.EOT})
    kw = {"batch_size": 4, "max_length": 4, "stride": 4}
    in_order = book_windows(ids, kw["max_length"], kw["stride"])
    orders = {}
    for seed in (1, 2):
        got = rows(batches(impl, txt, shuffle=True, drop_last=False, seed=seed, **kw))
        explain.expect(sorted(map(repr, got)) == sorted(map(repr, in_order)),
                       f"shuffle=True (seed {seed}) did not yield each of the {len(in_order)} windows exactly "
                       "once", stage=STAGE)
        explain.expect(got != in_order, f"shuffle=True with torch.manual_seed({seed}) yielded the "
                       f"{len(got)} windows in dataset order: pass shuffle to the DataLoader", stage=STAGE)
        orders[seed] = got
    explain.expect(orders[1] != orders[2], "torch.manual_seed(1) and torch.manual_seed(2) gave the same "
                   "shuffled order: shuffle must draw from torch's global RNG (no fixed generator)",
                   stage=STAGE)


# Listing 2.6's defaults (print edition); the MEAP listing has no num_workers.  A parameter without
# a default is fine (the book repository's dataloader notebook gives none to the first three).
LISTING_DEFAULTS = {"batch_size": 4, "max_length": 256, "stride": 128, "shuffle": True, "drop_last": True,
                    "num_workers": 0}


def _signature(impl) -> list[dict]:
    __tracebackhide__ = True
    try:
        return impl.dataloader_signature()
    except ImplError as err:
        explain.impl_raised("inspect.signature(create_dataloader_v1)", err, stage=STAGE)


def test_listing_defaults(impl):
    """Listing 2.6: where ``create_dataloader_v1`` gives a parameter a default, it is the book's
    (``batch_size=4, max_length=256, stride=128, shuffle=True, drop_last=True, num_workers=0``), so
    code that later calls ``create_dataloader_v1(text)`` trains on the book's windows."""
    wrong = []
    for p in _signature(impl):
        want = LISTING_DEFAULTS.get(p["name"])
        if want is None or not p["has_default"]:
            continue
        got = p["default"]
        if got != want or isinstance(got, bool) != isinstance(want, bool):
            wrong.append(_("{name}={actual} (the listing has {name}={expected})").format(
                name=p["name"], actual=p["default_repr"], expected=want))
    explain.expect(not wrong, _("create_dataloader_v1 has other defaults than Listing 2.6: {wrong}").format(
        wrong="; ".join(wrong)), stage=STAGE)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_num_workers_reaches_the_loader(impl, verdict_text, num_workers):
    """Listing 2.6 passes ``num_workers`` on to the ``DataLoader``: a loader built with
    ``num_workers=2`` has ``loader.num_workers == 2`` (judged without starting any worker)."""
    if not any(p["name"] == "num_workers" or p["kind"] == "var_keyword" for p in _signature(impl)):
        return  # the MEAP listing has no num_workers parameter (left open)
    got = batches(impl, verdict_text[:400], batch_size=2, max_length=4, stride=4, shuffle=False,
                  drop_last=True, num_workers=num_workers, max_batches=0)
    if not got["is_dataloader"] and got.get("num_workers") is None:
        return  # any iterable of batches is allowed; only a DataLoader's workers can be asked
    explain.expect(got.get("num_workers") == num_workers,
                   _("create_dataloader_v1(..., num_workers={expected}) built a loader with num_workers="
                     "{actual}: pass num_workers on to the DataLoader").format(
                         expected=num_workers, actual=got.get("num_workers")), stage=STAGE)
