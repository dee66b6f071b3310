"""Stage ``embeddings``: token + absolute positional embeddings, ``InputEmbeddings`` (2.7-2.8).

``InputEmbeddings(vocab_size, output_dim, context_length)`` holds the book's two layers,
``token_embedding_layer`` (vocab_size x D) and ``pos_embedding_layer`` (context_length x D), and maps ids
of shape [B, T] to ``token_embedding_layer.weight[ids] + pos_embedding_layer.weight[:T]`` of shape
[B, T, D].  The seeded golden matrices need the book's order: the token layer is created first, right
after ``torch.manual_seed``, as a default-initialised ``torch.nn.Embedding``.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import example, given

from llmspec import explain
from llmspec.errors import ImplError
from spec_tests import strategies as S

pytestmark = pytest.mark.embeddings
STAGE = "embeddings"


def call(what, fn, *args):
    __tracebackhide__ = True
    try:
        return fn(*args)
    except ImplError as err:
        explain.impl_raised(what, err, stage=STAGE)


def layers(impl, handle, source=None):
    """The two weight matrices (fails with the book's names when they are missing)."""
    __tracebackhide__ = True
    state = call("reading InputEmbeddings' layers", impl.embeddings_state, handle)
    for name in ("token_embedding_layer", "pos_embedding_layer"):
        explain.expect(isinstance(state.get(name), torch.Tensor),
                       f"InputEmbeddings has no {name} with a .weight; the book names its two "
                       "torch.nn.Embedding layers token_embedding_layer and pos_embedding_layer",
                       stage=STAGE, source=source)
    return state["token_embedding_layer"], state["pos_embedding_layer"]


@pytest.mark.golden("embeddings", id=r"^seed(123|42-weight|42-onehot)")
def test_golden_seeded(impl, case):
    """The seeded matrices and lookups the documents print (seed 123: Embedding(6, 3); seed 42:
    Embedding(3, 4) and its one-hot @ W equivalent)."""
    inp, exp, src, atol = case["input"], case["expected"], case.get("source"), case.get("atol", 1e-4)
    ids = inp.get("ids", [0])
    handle = call(f"InputEmbeddings({inp['vocab_size']}, {inp['output_dim']}, {max(len(ids), 4)})",
                  impl.embeddings_new, inp["vocab_size"], inp["output_dim"], max(len(ids), 4), inp["seed"])
    W, P = layers(impl, handle, src)
    if "weight" in exp:
        explain.check_tensor(f"token_embedding_layer.weight after torch.manual_seed({inp['seed']})",
                             torch.tensor(exp["weight"]), W, stage=STAGE, atol=atol, source=src)
    out = call("InputEmbeddings.forward", impl.embeddings_forward, handle, torch.tensor([ids]))
    explain.expect(list(out.shape) == [1, len(ids), inp["output_dim"]],
                   f"forward([ids]) has shape {list(out.shape)}, expected [1, {len(ids)}, {inp['output_dim']}]",
                   stage=STAGE, source=src)
    for key in ("output", "onehot_matmul"):
        if key in exp:
            explain.check_tensor(f"token part of forward({ids}) (forward minus pos_embedding_layer.weight[:T])",
                                 torch.tensor(exp[key]), out[0] - P[: len(ids)], stage=STAGE, atol=atol,
                                 source=src)


def test_golden_shapes(impl, gpt2, verdict_text):
    """2.8: an [8, 4] batch of GPT-2 ids -> [8, 4, 256] with vocab 50257, D 256, context 4."""
    from llmspec import fixtures

    exp = fixtures.case("embeddings", "shapes-8x4-256")["expected"]
    ids = gpt2.encode(verdict_text, allowed_special={S.EOT})[:32]
    handle = call("InputEmbeddings(50257, 256, 4)", impl.embeddings_new, 50257, 256, 4, 123)
    out = call("InputEmbeddings.forward", impl.embeddings_forward, handle, torch.tensor(ids).view(8, 4))
    explain.expect(list(out.shape) == exp["input_embeddings_shape"],
                   f"forward(inputs [8, 4]) has shape {list(out.shape)}, expected {exp['input_embeddings_shape']}",
                   stage=STAGE)
    impl.release(handle)


@given(case=S.embedding_case())
@S.scaled(0.7)
def test_forward_is_token_plus_position(impl, case):
    """P25/P27: layer shapes (vocab_size, D) and (context_length, D); forward(ids) has shape [B, T, D]
    and equals ``W[ids] + P[:T]`` (= one_hot(ids) @ W + P[:T]); the positional part is the same in every
    batch row."""
    v, d, c, b, t = (case[k] for k in ("vocab_size", "output_dim", "context_length", "batch", "T"))
    handle = call(f"InputEmbeddings({v}, {d}, {c})", impl.embeddings_new, v, d, c, case["seed"])
    W, P = layers(impl, handle)
    explain.expect(list(W.shape) == [v, d], f"token_embedding_layer.weight has shape {list(W.shape)}, "
                   f"expected (vocab_size, output_dim) = [{v}, {d}]", stage=STAGE)
    explain.expect(list(P.shape) == [c, d], f"pos_embedding_layer.weight has shape {list(P.shape)}, "
                   f"expected (context_length, output_dim) = [{c}, {d}]", stage=STAGE)
    ids = torch.randint(0, v, (b, t), generator=torch.Generator().manual_seed(case["seed"]))
    out = call("InputEmbeddings.forward", impl.embeddings_forward, handle, ids)
    onehot = torch.nn.functional.one_hot(ids, v).to(W.dtype) @ W
    explain.check_tensor(f"forward(ids of shape [{b}, {t}]) = one_hot(ids) @ W + P[:T]",
                         onehot + P[:t], out, stage=STAGE, atol=1e-5)
    impl.release(handle)


@given(case=S.embedding_case())
@S.scaled(0.25)
# pinned: several rows (the positional gradient sums over the batch), T < context_length (rows
# T.. get exactly zero) and T == context_length, so a frozen or detached layer never passes by luck
@example(case={"vocab_size": 7, "output_dim": 3, "context_length": 5, "batch": 3, "T": 4, "seed": 1})
@example(case={"vocab_size": 4, "output_dim": 2, "context_length": 3, "batch": 2, "T": 3, "seed": 2})
def test_gradients_reach_both_layers(impl, case):
    """P28: backward sends grad_output rows to the looked-up token rows and to positions 0..T-1
    (summed over the batch); both layers are trainable, as the LLM trains them in chapter 5."""
    v, d, c, b, t = (case[k] for k in ("vocab_size", "output_dim", "context_length", "batch", "T"))
    handle = call(f"InputEmbeddings({v}, {d}, {c})", impl.embeddings_new, v, d, c, case["seed"])
    gen = torch.Generator().manual_seed(case["seed"] + 1)
    ids = torch.randint(0, v, (b, t), generator=gen)
    grad_out = torch.randn(b, t, d, generator=gen)
    grads = call("InputEmbeddings backward", impl.embeddings_backward, handle, ids, grad_out)
    want_w = torch.zeros(v, d).index_add_(0, ids.reshape(-1), grad_out.reshape(-1, d))
    want_p = torch.zeros(c, d)
    want_p[:t] = grad_out.sum(0)
    for name, want in (("token_embedding_layer", want_w), ("pos_embedding_layer", want_p)):
        got = grads.get(name)
        explain.expect(isinstance(got, torch.Tensor), f"no gradient reached {name}.weight: the output must "
                       "be computed from both layers (no .detach(), no torch.no_grad())", stage=STAGE)
        explain.check_tensor(f"{name}.weight.grad after forward(ids).backward(g)", want, got, stage=STAGE,
                             atol=1e-4)
    impl.release(handle)


def test_sequence_longer_than_context_raises(impl):
    """P27: T > context_length has no positional embedding: the book's code raises (IndexError)."""
    handle = call("InputEmbeddings(10, 4, 3)", impl.embeddings_new, 10, 4, 3, 0)
    try:
        out = impl.embeddings_forward(handle, torch.zeros(2, 5, dtype=torch.long))
    except ImplError:
        return
    explain.fail(f"forward(ids of shape [2, 5]) with context_length=3 returned shape {list(out.shape)}; "
                 f"positions beyond context_length have no embedding and must raise ({explain.book(STAGE)})")


def test_id_out_of_range_raises(impl):
    """P26: an id >= vocab_size has no row in ``token_embedding_layer``: ``nn.Embedding`` raises
    (IndexError on CPU); clamping it or wrapping it around silently embeds the wrong token."""
    handle = call("InputEmbeddings(10, 4, 3)", impl.embeddings_new, 10, 4, 3, 0)
    ids = torch.tensor([[1, 10]])
    try:
        out = impl.embeddings_forward(handle, ids)
    except ImplError:
        impl.release(handle)
        return
    explain.fail(f"forward([[1, 10]]) with vocab_size=10 returned shape {list(out.shape)}; id 10 is out of "
                 f"range (valid ids are 0..9) and must raise ({explain.book(STAGE)})")


def test_both_layers_are_trainable(impl):
    """Both embedding layers are learned (chapter 5 trains them): ``weight.requires_grad`` is on for
    each; absolute positional embeddings in the book are trainable, not fixed sinusoids."""
    handle = call("InputEmbeddings(10, 4, 3)", impl.embeddings_new, 10, 4, 3, 0)
    state = call("reading InputEmbeddings' layers", impl.embeddings_state, handle)
    for name, key in (("token_embedding_layer", "token"), ("pos_embedding_layer", "pos")):
        explain.expect(state.get(f"{key}_trainable", False),
                       f"{name}.weight.requires_grad is False: the layer is frozen, so training could never "
                       "change it", stage=STAGE)
    impl.release(handle)
