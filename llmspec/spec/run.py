"""The state of one pytest session of the suite: the implementation under test, opened once.

:class:`Run` opens the adapter (in process, in a worker, or in the graders' sandbox:
:func:`llmspec.runtime.connect.open_adapter`), asks the target what it defines, resolves
``--edition auto``, and collects what the report needs: the tests' results, the stages' faults.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from llmspec.editions import AUTO
from llmspec.i18n import _
from llmspec.spec.settings import Settings


# --- the run state (only once the suite is active) ------------------------------------------------
@dataclass
class Run:
    """Everything one pytest session knows about the implementation under test."""

    settings: Settings
    adapter: Any = None
    load_error: str | None = None
    description: dict[str, Any] = field(default_factory=dict)
    selected: tuple[str, ...] = ()
    missing: dict[str, list[str]] = field(default_factory=dict)
    item_stage: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)  # stage -> why it stopped early (worker runs)
    started: float = field(default_factory=time.perf_counter)
    edition: str = "print"  # the edition judged (``--edition auto`` resolved by open())
    edition_reason: str = ""  # the one line ``auto`` prints: which edition, why, how to override
    report: dict[str, Any] | None = None  # the --llmspec-report dict, built once at the session's end
    undo_profiles: Any = None  # puts Hypothesis back as it was before the run (profiles.configure)

    def open(self) -> None:
        """Open the adapter once; a target that cannot load fails every test with one message."""
        if self.adapter is not None or self.load_error is not None:
            return
        s = self.settings
        if s.preset is not None:  # an adapter the caller opened (llmspec.suite.Preset)
            self.adapter = s.preset
            self.description = self.adapter.describe()
        else:
            self._open(s)
        self.edition = s.edition
        if s.edition == AUTO:
            from llmspec.editions import detect

            if self.adapter is None:
                self.edition = "print"
            else:
                self.edition, self.edition_reason = detect(self.adapter, self.description)

    def _open(self, s: Settings) -> None:
        """Load the target (in process or in a worker); a failure becomes :attr:`load_error`."""
        from llmspec.runtime.connect import open_adapter
        from llmspec.errors import DataError, HarnessError

        limits = dict(s.limits)
        budgets = {k.partition(".")[2]: float(limits.pop(k)) for k in list(limits) if k.startswith("stage_timeout.")}
        if budgets:
            limits["stage_timeouts"] = budgets
        try:
            self.adapter = open_adapter(s.target, s.impl_map or None, isolate=s.isolate, worker=s.worker,
                                        strict_names=s.strict_names, **limits)
            self.description = self.adapter.describe()
        except DataError:
            raise
        except (HarnessError, OSError, ValueError) as exc:
            name, text = s.target or "reference", " ".join(str(exc).split())
            # the loader's reasons usually start with the target's own name (the worker's with its
            # absolute path): say it once
            said = next((p for p in (name, os.path.abspath(name)) if text.startswith(p + ":")), None)
            self.load_error = (_("cannot load {target}{rest}").format(target=name, rest=text[len(said):])
                               if said is not None else _("cannot load {target}: {error}").format(target=name, error=text))

    def close(self) -> None:
        if self.adapter is not None:
            self.faults = dict(self.adapter.faults)  # for the summary, after the close
            if self.adapter is not self.settings.preset:  # the caller's (llmspec.suite.Preset) stays open
                self.adapter.close()
            self.adapter = None


RUN_KEY = pytest.StashKey[Run]()


def get_run(config: pytest.Config) -> Run | None:
    """The session's run, once the spec suite is active (``None`` in any other pytest session)."""
    return config.stash.get(RUN_KEY, None)
