"""TOML reading on every supported Python: ``tomllib`` from 3.11, its backport ``tomli`` on 3.10
(the only extra dependency, and only there: a TOML parser is not worth writing by hand)."""
from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

loads = tomllib.loads
TOMLDecodeError = tomllib.TOMLDecodeError
