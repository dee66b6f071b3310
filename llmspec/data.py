"""Where the book's data lives, and proof that it is the right data.

Every stage is judged against numbers the book prints from ``the-verdict.txt`` and the GPT-2 BPE files,
so a wrong or truncated file would turn the suite into noise: the files are found (``$LLMSPEC_DATA``,
then the user cache), their sha256 checked, tiktoken's offline cache seeded from them and, only when
asked, downloaded.  Missing or corrupt data is one :class:`~llmspec.errors.DataError` saying how to fix it.
"""
from __future__ import annotations

import functools
import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspec.errors import DataError
from llmspec.grading import atomic
from llmspec.i18n import _

DATA_ENV = "LLMSPEC_DATA"

# file (relative to a data directory laid out like ../shared/data) -> sha256 of its bytes
EXPECTED: dict[str, str] = {
    "the-verdict.txt": "b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f",
    "gpt2/encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "gpt2/vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}
# file -> public origin (for ``llmspec data fetch``); the GPT-2 URLs are also tiktoken's cache keys
ORIGINS: dict[str, str] = {
    "the-verdict.txt": "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/"
    "01_main-chapter-code/the-verdict.txt",
    "gpt2/encoder.json": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "gpt2/vocab.bpe": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
}
TIKTOKEN_FILES: tuple[str, ...] = ("gpt2/encoder.json", "gpt2/vocab.bpe")


def fix_hint() -> str:
    """How to fix missing or corrupt data, in the learner's language."""
    return _("fix: set {variable} to a directory holding the-verdict.txt and gpt2/encoder.json, gpt2/vocab.bpe "
             "(e.g. ~/llm-data), or run `llmspec data fetch` (needs internet)").format(variable=DATA_ENV)


@dataclass(frozen=True)
class DataFiles:
    """Verified paths of the book's three data files."""

    verdict: Path
    encoder_json: Path
    vocab_bpe: Path

    def path_of(self, name: str) -> Path:
        """The path of book file ``name`` (``"the-verdict.txt"``, ``"gpt2/encoder.json"``, ...)."""
        return getattr(self, _FIELD[name])


_FIELD = {"the-verdict.txt": "verdict", "gpt2/encoder.json": "encoder_json", "gpt2/vocab.bpe": "vocab_bpe"}
_verified: dict[tuple[str, int, int], bool] = {}  # (path, size, mtime_ns) -> sha256 ok; once per process


def user_cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/llmspec``: where fetched data and tiktoken's cache go."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "llmspec"


def search_dirs() -> list[tuple[str, Path]]:
    """The places :func:`locate` looks, in order, each with a label for messages."""
    dirs: list[tuple[str, Path]] = []
    env = os.environ.get(DATA_ENV)
    if env:
        dirs.append((f"${DATA_ENV}", Path(env).expanduser()))
    dirs.append(("user cache", user_cache_root() / "data"))
    return dirs


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _hash_ok(path: Path, name: str) -> bool:
    """sha256 check memoised on (path, size, mtime) so a process hashes each file once."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_file(path) == EXPECTED[name]
    return _verified[key]


def file_status(name: str) -> dict[str, Any]:
    """Where ``name`` was found and whether its hash is right.  The first directory that *has* the
    file wins: a corrupt file there is reported, not skipped for another copy (the user must learn it)."""
    looked = []
    for label, d in search_dirs():
        p = d / name
        looked.append(f"{label} {p}")
        if p.is_file():
            ok = _hash_ok(p, name)
            return {"name": name, "path": p, "where": label, "ok": ok, "looked": looked}
    return {"name": name, "path": None, "where": None, "ok": False, "looked": looked}


def _describe_problems(statuses: list[dict[str, Any]]) -> str:
    """One message: which files are missing or corrupt, where we looked, how to fix it."""
    missing = [st["name"] for st in statuses if st["path"] is None]
    corrupt = [f"{st['name']} at {st['path']}" for st in statuses if st["path"] is not None and not st["ok"]]
    parts = []
    if missing:
        looked = ", ".join(f"{label} {d}" for label, d in search_dirs())
        unset = "" if os.environ.get(DATA_ENV) else "; " + _("${variable} is not set").format(variable=DATA_ENV)
        parts.append(_("missing {files} (looked in {places})").format(files=", ".join(missing),
                                                                     places=looked + unset))
    if corrupt:
        parts.append(_("corrupt (sha256 mismatch) {files}").format(files=", ".join(corrupt)))
    return _("the book's data is not usable: {problems}. {fix}").format(problems="; ".join(parts), fix=fix_hint())


def locate() -> DataFiles:
    """Find and verify the three data files, or raise one :class:`DataError` saying how to fix it."""
    statuses = [file_status(name) for name in EXPECTED]
    if not all(st["ok"] for st in statuses):
        raise DataError(_describe_problems(statuses))
    return DataFiles(**{_FIELD[st["name"]]: st["path"] for st in statuses})


def read_verdict() -> str:
    """The book's training text, read exactly as Listing 2.1 does (text mode, utf-8)."""
    with open(locate().verdict, "r", encoding="utf-8") as f:
        return f.read()


def tiktoken_cache_name(url: str) -> str:
    """tiktoken names a cached download by the sha1 hex digest of its URL."""
    return hashlib.sha1(url.encode()).hexdigest()


def ensure_tiktoken_cache() -> Path:
    """Seed tiktoken's cache with the verified GPT-2 files; return the cache directory.

    An unset or empty ``TIKTOKEN_CACHE_DIR`` (empty would force a download) is set to the user cache's
    in this process's environment, so child processes (a learner's code) inherit an offline cache.
    Safe when several processes do it at once (atomic replace of identical bytes)."""
    files = locate()
    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache:
        cache = str(user_cache_root() / "tiktoken")
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    cache_dir = Path(cache)
    for name in TIKTOKEN_FILES:
        target = cache_dir / tiktoken_cache_name(ORIGINS[name])
        if target.is_file() and _hash_ok(target, name):
            continue
        try:
            atomic.write_bytes(target, files.path_of(name).read_bytes())
        except OSError as exc:
            raise DataError(_("cannot write tiktoken's cache {path}: {error}. fix: set TIKTOKEN_CACHE_DIR to a "
                              "writable directory").format(path=target, error=exc)) from exc
    return cache_dir


@functools.lru_cache(maxsize=1)
def gpt2_encoding() -> Any:
    """The GPT-2 ``tiktoken.Encoding`` (2.5), from the verified local files, no network."""
    import tiktoken

    ensure_tiktoken_cache()
    return tiktoken.get_encoding("gpt2")


def fetch(dest: Path | str | None = None, timeout: float = 60.0) -> DataFiles:
    """Download any missing/corrupt file into ``dest`` (default: the user cache), its sha256 verified
    before an atomic rename; return the verified paths there."""
    dest_dir = Path(dest) if dest is not None else user_cache_root() / "data"
    for name, url in ORIGINS.items():
        target = dest_dir / name
        if target.is_file() and _hash_ok(target, name):
            continue
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                data = resp.read()
        except OSError as exc:
            raise DataError(_("could not download {name} from {url}: {error}. fix: check the network, or set "
                              "{variable} to a directory that already holds the data").format(
                name=name, url=url, error=exc, variable=DATA_ENV)) from exc
        got = hashlib.sha256(data).hexdigest()
        if got != EXPECTED[name]:
            raise DataError(_("downloaded {name} from {url} but its sha256 is {got}, not {expected}").format(
                name=name, url=url, got=got, expected=EXPECTED[name]))
        atomic.write_bytes(target, data)
    return DataFiles(**{_FIELD[n]: dest_dir / n for n in EXPECTED})
