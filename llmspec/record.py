"""Record what an implementation *does* on the suite's fixed inputs, and compare two recordings.

A maintainer of a port asks "did anything change since the last release?" without writing
expectations by hand.  :func:`record` asks through the spec tests' adapter and keeps the outputs as
readable JSON, one file per stage (exceptions too: ``{"error": "KeyError"}``); :func:`diff` names the
first differing input per stage.  The reference's recording is a regression fixture (``fixtures/record/``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from llmspec.runtime.adapter import Adapter
from llmspec.errors import ImplError, StageMissing
from llmspec.explain import first_difference, gpt2_pieces
from llmspec.stages import EMBEDDINGS_STATE, STAGES

FORMAT = 1
META = "meta.json"
EOT = "<|endoftext|>"

# Fixed texts: the book's examples plus corner cases (whitespace runs, contractions, non-ASCII).
PASSAGE = '"It\'s the last he painted, you know," Mrs. Gisburn said with pardonable pride.'
V2_TEXT = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace."
BPE_TEXTS = [
    "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.",
    "Akwirw ier",
    "Hello, world. Is this-- a test?",
    "Implementations",
    "it's  we'll\n\n  indented\tcode 2024 ½",
    "naïve café 日本語 😀 👍🏽",
]
WINDOWS = [(4, 4), (4, 1), (256, 128)]  # (max_length, stride) on the-verdict.txt
EMBEDDINGS = [(6, 3, 4, 123), (50257, 8, 4, 123)]  # vocab, dim, context, seed
TRAIN_VOCAB = 300


# --- wire values <-> readable JSON ------------------------------------------------------------------
def to_json(value: Any) -> Any:
    """Tensors become ``{"dtype", "shape", "data"}`` (nested lists); everything else stays."""
    if isinstance(value, torch.Tensor):
        return {"dtype": str(value.dtype), "shape": list(value.shape), "data": value.tolist()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def _call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """The implementation's answer as JSON, or ``{"error": type}`` when it raised."""
    try:
        return to_json(fn(*args, **kw))
    except ImplError as err:
        return {"error": err.exc_type}


# --- what each stage records ------------------------------------------------------------------------
def _tokenizer(version: int) -> Callable[[Adapter, str], Iterator[dict[str, Any]]]:
    def cases(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
        from reference.tokenizers import build_vocab

        vocab = build_vocab(verdict, edition="print", special_tokens=version == 2)
        h = impl.tokenizer_new(version, vocab)
        texts = [PASSAGE, verdict[: verdict.index(" ", 300)]]
        texts += [V2_TEXT, "Hello, unknownword."] if version == 2 else ["Hello, do you like tea?"]
        for k, text in enumerate(texts):
            ids = _call(impl.tokenizer_encode, h, text)
            yield {"id": f"encode-{k}", "call": "encode", "input": {"text": text}, "output": ids}
            if isinstance(ids, list):
                yield {"id": f"decode-{k}", "call": "decode", "input": {"ids": ids},
                       "output": _call(impl.tokenizer_decode, h, ids)}
    return cases


def _gpt2_cases(encode: Callable[[str, list[str] | None], Any], decode: Callable[[list[int]], Any],
                verdict: str) -> Iterator[dict[str, Any]]:
    """Encode and decode :data:`BPE_TEXTS` and the story: the cases of both GPT-2 BPE stages."""
    for k, text in enumerate(BPE_TEXTS + [verdict]):
        allowed = [EOT] if EOT in text else None
        ids = _call(encode, text, allowed)
        label = "<the-verdict.txt>" if text == verdict else text  # named, not copied: it is 20 KB of the data dir
        yield {"id": f"encode-{k}", "call": "encode",
               "input": {"text": label, "allowed_special": allowed}, "output": ids, "decode": "gpt2"}
        if isinstance(ids, list):
            yield {"id": f"decode-{k}", "call": "decode", "input": {"ids": ids}, "output": _call(decode, ids)}


def _bpe(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
    yield from _gpt2_cases(lambda text, allowed: impl.bpe_encode(text, allowed_special=allowed), impl.bpe_decode,
                           verdict)


def _dataset(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
    for max_length, stride in WINDOWS:
        h = impl.dataset_new(verdict, max_length, stride)
        n = _call(impl.dataset_len, h)
        inp = {"txt": "the-verdict.txt", "max_length": max_length, "stride": stride}
        yield {"id": f"len-{max_length}-{stride}", "call": "len", "input": inp, "output": n}
        if isinstance(n, int) and n > 0:
            idx = sorted({0, 1, n // 2, n - 1})
            yield {"id": f"items-{max_length}-{stride}", "call": "items", "input": {**inp, "indices": idx},
                   "output": _call(impl.dataset_items, h, idx), "decode": "gpt2"}
        impl.release(h)


def _dataloader(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
    for shuffle, seed in ((False, None), (True, 123)):
        kw = dict(batch_size=8, max_length=4, stride=4, shuffle=shuffle, drop_last=True,
                  num_workers=0, seed=seed, max_batches=2)
        out = _call(impl.dataloader_batches, verdict, **kw)
        if isinstance(out, dict):
            out = {"len": out.get("len"), "batches": out.get("batches")}  # the class name may differ
        yield {"id": f"batches-shuffle-{shuffle}", "call": "dataloader", "input": {"txt": "the-verdict.txt", **kw},
               "output": out, "decode": "gpt2"}


def _embeddings(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
    ids = torch.tensor([[40, 367, 2885, 1464], [2, 3, 5, 1]])
    for vocab_size, dim, context, seed in EMBEDDINGS:
        h = impl.embeddings_new(vocab_size, dim, context, seed=seed)
        inp = {"vocab_size": vocab_size, "output_dim": dim, "context_length": context, "seed": seed}
        batch = ids % vocab_size  # the book's ids as they are under GPT-2's vocabulary
        if vocab_size <= 64:  # small enough to keep the weights themselves
            state = _call(impl.embeddings_state, h)
            if isinstance(state, dict) and "error" not in state:
                state = {k: state.get(k) for k in ("token_embedding_layer", "pos_embedding_layer")}
            yield {"id": f"weights-{vocab_size}x{dim}", "call": "state", "input": inp, "output": state}
        yield {"id": f"forward-{vocab_size}x{dim}", "call": "forward", "input": {**inp, "ids": batch.tolist()},
               "output": _call(impl.embeddings_forward, h, batch)}
        impl.release(h)


STATE_KEEP = 64  # weights and tensors up to this many elements are kept whole; bigger ones by shape


def _embeddings_state(impl: Adapter) -> Iterator[dict[str, Any]]:
    """Judged from state (the book's inline 2.7-2.8 cells): one case per variable those cells leave,
    read, never called; a value is kept whole when small (the seeded 6 x 3 ``embedding_layer``)."""
    state = _call(impl.state_read, list(EMBEDDINGS_STATE), {n: [0] for n in STAGES["embeddings"].state_names})
    if not isinstance(state, dict) or "error" in state:
        yield {"id": "state", "call": "state", "output": state}
        return
    for name in EMBEDDINGS_STATE:
        if name not in state:
            continue
        value = dict(state[name])
        for key in ("tensor", "weight"):
            t = value.get(key)
            if isinstance(t, torch.Tensor) and t.numel() > STATE_KEEP:
                value[key] = None
        yield {"id": f"state-{name}", "call": "state", "input": {"name": name}, "output": value}


def _bpe_scratch(impl: Adapter, verdict: str) -> Iterator[dict[str, Any]]:
    from llmspec.data import locate

    files = locate()
    h = impl.bpe_scratch_new(str(files.encoder_json), str(files.vocab_bpe))
    yield from _gpt2_cases(lambda text, allowed: impl.bpe_scratch_encode(h, text, allowed),
                           lambda ids: impl.bpe_scratch_decode(h, ids), verdict)
    t = impl.bpe_scratch_new(None, None)
    trained = _call(impl.bpe_scratch_train, t, verdict, TRAIN_VOCAB, [EOT])
    probe = "Jack embraced beauty through art and life. <|endoftext|> naïve"
    out = trained if isinstance(trained, dict) else _call(impl.bpe_scratch_encode, t, probe, [EOT])
    yield {"id": "trained-encode", "call": "train+encode",
           "input": {"train": "the-verdict.txt", "vocab_size": TRAIN_VOCAB, "text": probe}, "output": out}


RECORDERS: dict[str, Callable[[Adapter, str], Iterator[dict[str, Any]]]] = {
    "tokenizer_v1": _tokenizer(1),
    "tokenizer_v2": _tokenizer(2),
    "bpe": _bpe,
    "dataset": _dataset,
    "dataloader": _dataloader,
    "embeddings": _embeddings,
    "bpe_scratch": _bpe_scratch,
}
assert set(RECORDERS) == set(STAGES), "every stage needs a recorder"


# --- recording ----------------------------------------------------------------------------------------
def record(impl: Adapter, stages: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """``{stage: {"stage", "missing" | "cases"}}`` for ``stages`` (default: all); a stage the
    implementation lacks is recorded as ``{"missing": [...]}``, not skipped silently."""
    from llmspec.data import read_verdict

    verdict = read_verdict()
    described = impl.describe()
    missing = {k: v for k, v in described.get("stages", {}).items() if v}
    judged = described.get("judged") or {}
    out: dict[str, dict[str, Any]] = {}
    for stage in stages or tuple(STAGES):
        if stage in missing:
            out[stage] = {"stage": stage, "missing": missing[stage]}
            continue
        try:
            if judged.get(stage) == "state":  # no class to call: what the book's cells left
                out[stage] = {"stage": stage, "judged": "state", "cases": list(_embeddings_state(impl))}
                continue
            out[stage] = {"stage": stage, "cases": list(RECORDERS[stage](impl, verdict))}
        except StageMissing as exc:
            out[stage] = {"stage": stage, "missing": exc.missing}
        except ImplError as err:  # a constructor raised: that is this stage's whole output
            out[stage] = {"stage": stage, "cases": [{"id": "setup", "output": {"error": err.exc_type}}]}
    return out


def write(recording: dict[str, dict[str, Any]], out_dir: Path | str, target: str) -> list[Path]:
    """One ``<stage>.json`` per stage plus ``meta.json`` (versions: seeded values depend on torch)."""
    import tiktoken

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "target": target, "stages": list(recording),
            "torch": torch.__version__.split("+")[0], "tiktoken": tiktoken.__version__}
    paths = [out / META]
    paths[0].write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    for stage, data in recording.items():
        p = out / f"{stage}.json"
        if "cases" in data:  # one case per line: readable, and a VCS diff points at the case
            body = ",\n".join(json.dumps(c, ensure_ascii=False) for c in data["cases"])
            judged = f', "judged": {json.dumps(data["judged"])}' if data.get("judged") else ""
            text = f'{{"stage": {json.dumps(stage)}{judged}, "cases": [\n{body}\n]}}\n'
        else:
            text = json.dumps(data, ensure_ascii=False) + "\n"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


def read(path: str | Path) -> dict[str, dict[str, Any]]:
    """A recording written by :func:`write`; ``ValueError`` when it is not one."""
    d = Path(path)
    try:
        meta = json.loads((d / META).read_text(encoding="utf-8"))
        return {s: json.loads((d / f"{s}.json").read_text(encoding="utf-8")) for s in meta["stages"]}
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{d} is not a readable llmspec recording: {exc}") from None


def load_side(spec: str, impl_map: dict[str, str] | None = None, isolate: bool = False,
              stages: tuple[str, ...] | None = None, in_process: bool = False) -> dict[str, dict[str, Any]]:
    """``spec`` is a recording directory or a target, run in a worker process as ``llmspec check``
    runs it (code that hangs or exits at import is a load error naming its line, not a silent exit)."""
    if (Path(spec) / META).is_file():
        return {s: v for s, v in read(spec).items() if stages is None or s in stages}
    from llmspec.runtime.connect import open_adapter

    impl = open_adapter(None if spec == "reference" else spec, impl_map, isolate=isolate,
                        worker=not isolate and not in_process)
    try:
        return record(impl, stages)
    finally:
        impl.close()


# --- comparing ----------------------------------------------------------------------------------------
def _is_ids(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def diff(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]],
         names: tuple[str, str] = ("A", "B"), asked: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    """``(same, lines)``: per stage "no difference" or the first differing input with both outputs.
    An optional stage that only one side implements counts as a difference only when ``asked`` names
    it: a port without the bonus is not a regression, as ``llmspec check`` does not fail it either."""
    lines: list[str] = []
    same = True
    for stage in [s for s in STAGES if s in a or s in b]:
        sa, sb = a.get(stage), b.get(stage)
        if sa is None or sb is None:
            lines.append(f"{stage}: only recorded for {names[0] if sb is None else names[1]}")
            same = False
            continue
        if "missing" in sa or "missing" in sb:
            if sa.get("missing") == sb.get("missing"):
                lines.append(f"{stage}: not implemented by either (no difference)")
            else:
                who = names[0] if "missing" in sa else names[1]
                counted = stage in asked or not STAGES[stage].optional
                lines.append(f"{stage}: not implemented by {who} "
                             f"(missing {', '.join(sa.get('missing') or sb.get('missing'))})"
                             + ("" if counted else "; an optional stage, not counted as a difference"))
                same = same and not counted
            continue
        if sa.get("judged") != sb.get("judged"):  # the book's inline cells vs. an InputEmbeddings class
            how = {None: "by its class", "state": "from the variables the book's cells leave (2.7-2.8)"}
            lines.append(f"{stage}: recorded {how.get(sa.get('judged'))} for {names[0]} and "
                         f"{how.get(sb.get('judged'))} for {names[1]}: not comparable case by case")
            same = False
            continue
        ca, cb = {c["id"]: c for c in sa["cases"]}, {c["id"]: c for c in sb["cases"]}
        ids = list(ca) + [k for k in cb if k not in ca]
        differ = [i for i in ids if ca.get(i, {}).get("output", ...) != cb.get(i, {}).get("output", ...)]
        if not differ:
            lines.append(f"{stage}: no difference ({len(ca)} cases)")
            continue
        same = False
        first = differ[0]
        case = ca.get(first) or cb[first]
        lines.append(f"{stage}: {len(differ)} of {len(ids)} cases differ; first: {first} ({case.get('call', '')})")
        lines.append(f"  input   {_short(case.get('input'))}")
        oa, ob = (c.get("output") if c else "<not recorded>" for c in (ca.get(first), cb.get(first)))
        if _is_ids(oa) and _is_ids(ob) and case.get("decode") == "gpt2":
            at = first_difference(oa, ob) or 0
            lines.append(f"  first difference at id {at} (lengths {len(oa)} and {len(ob)})")
            for name, out in ((names[0], oa), (names[1], ob)):
                lines.append(f"  {name:7} {out[max(0, at - 6):at + 6]}  = {gpt2_pieces(out, at)}")
            continue
        for name, out in ((names[0], oa), (names[1], ob)):
            lines.append(f"  {name:7} {_short(out)}")
    return same, lines
