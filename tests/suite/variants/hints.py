"""How well the listing hint (``llmspec.hints``) points at the bug zoo's edits.

    python tests/suite/variants/hints.py           # the share, and the hints that name a wrong line
    python tests/suite/variants/hints.py --show    # ... and every variant's hint, one line a difference

Every buggy variant is the book-style file with one edit (``make_buggy.py``), so the line a hint
should name is known: the lines the edit changed (for an edit that only removes code, the lines
either side of the gap).  For the variant's stage, and every stage it may also fail (``also``),
the hint is built as the grader builds it (read from disk, names found in the code, the edition the
check would judge by) and must name an edited line or say nothing; a difference whose lines miss the
edit names a line that matches the listing, which must never happen (the goal is 0).  No suite runs:
the hint is built from the code alone, so this takes a second or two.
"""
from __future__ import annotations

import ast
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from make_buggy import BASE, BUGS, OUT, Bug, ensure_generated  # noqa: E402
from manifest import DEFAULT_ALSO  # noqa: E402

MEAP_PROBE = "Hello: do you like tea; or coffee"  # what llmspec.editions asks SimpleTokenizerV1


@dataclass
class Verdict:
    bug: Bug
    edited: set[int]
    hints: dict[str, dict]

    @property
    def spans(self) -> list[tuple[str, int, int, str]]:
        return [(stage, d["line"], d["end_line"], d["yours"] or "") for stage, h in self.hints.items()
                for d in h["differences"]]

    @property
    def wrong(self) -> list[tuple[str, int, int, str]]:
        """Differences whose lines miss the edit: they name a line that matches the listing."""
        return [s for s in self.spans if not self.edited & set(range(s[1], s[2] + 1))]

    @property
    def named(self) -> bool:
        return bool(self.spans) and not self.wrong


def edited_lines(bug: Bug) -> set[int]:
    """The lines of the variant's file that its edit changed (both sides of a pure removal)."""
    base = BASE.read_text(encoding="utf-8")
    header = 3 + len(bug.also)  # render(): "# stage", "# bug", also-fails..., "# generated" for 3 lines
    start = base[:base.index(bug.old)].count("\n") + 1 - 3 + header
    old, new = bug.old.split("\n"), bug.new.split("\n")
    out: set[int] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        out |= {start + j for j in range(j1, j2) if new[j].strip()}
        if i2 - i1 > j2 - j1 or not any(new[j].strip() for j in range(j1, j2)):  # code removed: the gap
            out |= {start + j1 - 1, start + j1}
    return out


def judged_edition(path: Path) -> str:
    """The edition ``--edition auto`` judges a file or notebook by (``llmspec.editions``, read from
    the code instead of asked): MEAP when SimpleTokenizerV1's regex (else V2's) keeps ':' and ';' on
    the words, unless V2's splits them off (the print book's own pair); with no tokenizer, MEAP when
    GPTDatasetV1 calls plain ``tokenizer.encode(txt)``."""
    from llmspec.hints.sources import definitions, read_target

    defined = definitions(read_target("notebook" if path.suffix == ".ipynb" else "file", str(path), path.name))
    found = []
    for name in ("SimpleTokenizerV1", "SimpleTokenizerV2"):
        if name in defined:
            pattern = next((n.args[0].value for n in ast.walk(defined[name][1]) if isinstance(n, ast.Call)
                            and getattr(n.func, "attr", "") == "split" and n.args
                            and isinstance(n.args[0], ast.Constant)), None)
            if pattern is not None:
                found.append("meap" if "Hello:" in re.split(pattern, MEAP_PROBE) else "print")
    if found:  # V1's, except V1 MEAP-like beside a print V2: the print book's own Listings 2.3 and 2.4
        return "print" if found == ["meap", "print"] else found[0]
    dataset = defined.get("GPTDatasetV1")
    encodes = [n for n in ast.walk(dataset[1]) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "encode"] \
        if dataset else []
    return "meap" if encodes and not any(n.keywords for n in encodes) else "print"


def judge(bug: Bug) -> Verdict:
    from llmspec.hints import target_hints

    path = OUT / f"{bug.name}.py"
    stages = [bug.stage, *DEFAULT_ALSO.get(bug.stage, {}), *bug.also]
    return Verdict(bug, edited_lines(bug), target_hints(str(path), judged_edition(path), stages, set(), False))


def zoo() -> list[Verdict]:
    ensure_generated()
    return [judge(bug) for bug in BUGS]


def covered(bug: Bug) -> bool:
    """Whether the bug's stage has a listing to compare with (2.5's BPE is tiktoken: none)."""
    from llmspec.hints.listings import LISTINGS

    return bug.stage in LISTINGS


def summary(verdicts: list[Verdict]) -> str:
    named = sum(v.named for v in verdicts)
    silent = sum(not v.spans for v in verdicts)
    wrong = sum(len(v.wrong) for v in verdicts)
    inside = sum(covered(v.bug) for v in verdicts)
    return (f"bug zoo: the hint names the edited line for {named} of {len(verdicts)} variants "
            f"({named / len(verdicts):.0%}; {named} of the {inside} whose edit is in a function a listing "
            f"covers); {silent} say nothing; {wrong} hint line(s) name a line outside the edit (goal 0)")


def main(argv: list[str]) -> int:
    verdicts = zoo()
    if "--show" in argv:
        for v in verdicts:
            mark = "ok   " if v.named else "WRONG" if v.wrong else "quiet"
            print(f"{mark} {v.bug.name:42s} edited {sorted(v.edited)}")
            for stage, line, end, text in v.spans:
                print(f"        {stage}: {line}-{end}  {text}")
    print(summary(verdicts))
    return 1 if any(v.wrong for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
