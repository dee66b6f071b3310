"""The in-kernel check, in a real Jupyter kernel: a notebook in the book's style (the correct
variant notebook with one bug put into ``GPTDatasetV1``) loads the extension, checks itself, fixes
the cell, checks again; nbclient executes it in an ipykernel, and the test reads the outputs.

``ipykernel`` and ``nbclient`` are test dependencies (``pip install -e .[test]``): they are the
machinery Jupyter itself uses to run a notebook, so the check is exercised exactly as a learner's
notebook runs it (IPython magics, ``_repr_html_`` display, the kernel's own namespace)."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import nbclient  # test dependencies: pip install -e '.[test]' (make setup does)
import nbformat
import pytest

from llmspec import data

from paths import BOOK_STYLE, VARIANTS  # noqa: E402

NOTEBOOK = VARIANTS / "correct" / "notebook.ipynb"
CORRECT_LOOP = "for i in range(0, len(token_ids) - max_length, stride):"
BUGGY_LOOP = "for i in range(0, len(token_ids) - max_length, 1):  # stride forgotten"

SNAPSHOT = '''
import os, random
torch.manual_seed(7); random.seed(7)
names_before, cwd_before = set(globals()), os.getcwd()
ids_before = {k: id(v) for k, v in globals().items()}
'''
REPORT = '''
import json, re, llmspec
HISTORY = r"_+|_i+|_i?[0-9]+|_dh|_oh|_ih|In|Out"  # IPython's input/output history
OWN = {"json", "re", "llmspec", "result", "HISTORY", "OWN", "names_before", "cwd_before", "ids_before"}
result = llmspec.check("dataset", "dataloader")
print(json.dumps({
    "stages": {n: [s.status, s.passed, s.total] for n, s in result.stages.items()},
    "ok": result.ok,
    "first": result["dataset"].first_failure and result["dataset"].first_failure["message"],
    "hint": result["dataset"].listing_hint and result["dataset"].listing_hint["differences"],
    "rng": [torch.rand(1).item(), random.random()],
    "same_cwd": os.getcwd() == cwd_before,
    "new_names": sorted(k for k in set(globals()) - names_before  # IPython's output history aside
                        if k not in OWN
                        and not re.fullmatch(HISTORY, k)),
    "rebound": sorted(k for k, i in ids_before.items() if k in globals() and id(globals()[k]) != i
                      and k not in OWN
                      and not re.fullmatch(HISTORY, k)),
}))
'''


def _cell(source: str) -> Any:
    return nbformat.v4.new_code_cell(source.strip("\n"))


def _book_notebook() -> Any:
    """The correct notebook, as a learner's: the extension loaded first, the dataset loop buggy, the
    embeddings only inline, as the book's 2.7-2.8 cells build them (no ``InputEmbeddings`` class: the
    stage is judged from the kernel's variables); minus the two cells that cannot run here
    (``%matplotlib`` without matplotlib, and the book's deliberate ``KeyError`` cell)."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cells = [c for c in nb.cells if c.cell_type != "code" or not (
        c.source.startswith("%matplotlib") or 'encode(text))' in c.source and "Hello" in c.source
        or "class InputEmbeddings" in c.source)]
    dataset_cell = next(c for c in cells if "class GPTDatasetV1" in c.source)
    assert CORRECT_LOOP in dataset_cell.source
    fixed = copy.deepcopy(dataset_cell)
    dataset_cell.source = dataset_cell.source.replace(CORRECT_LOOP, BUGGY_LOOP)
    nb.cells = ([_cell("%load_ext llmspec"), _cell("%llmspec datasets")] + cells
                + [_cell(SNAPSHOT), _cell("%llmspec dataset dataloader --lang zh"), _cell(REPORT),
                   fixed, _cell(SNAPSHOT), _cell("%llmspec"), _cell(REPORT)])
    return nb


def _outputs(cell: Any, kind: str) -> list[Any]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == kind]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("notebook")
    shutil.copyfile(data.locate().verdict, work / "the-verdict.txt")
    nb = _book_notebook()
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    return nb


def _html_of(nb: Any, index: int) -> str:
    (result,) = _outputs(nb.cells[index], "execute_result")
    return result["data"]["text/html"]


def _report_of(nb: Any, index: int) -> dict[str, Any]:
    text = "".join(o["text"] for o in _outputs(nb.cells[index], "stream") if o["name"] == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def test_the_notebook_shows_its_own_failing_verdict(executed: Any) -> None:
    n = len(executed.cells)
    html = _html_of(executed, n - 6)
    assert '<tr data-stage="dataset" data-status="fail">' in html
    assert '<tr data-stage="dataloader" data-status="fail">' in html
    assert "<details><summary>" in html and "代码清单 2.5" in html  # the first failure, folded, in Chinese
    assert "<strong>失败</strong>" in html and 'lang="zh"' in html
    assert 'data-stage="tokenizer_v1"' not in html  # only the stages asked for
    report = _report_of(executed, n - 5)
    assert report["stages"]["dataset"][0] == "fail" and not report["ok"]
    assert report["stages"]["dataset"][1] < report["stages"]["dataset"][2]
    assert "2.6, Listing 2.5" in report["first"]  # --lang was for that one check: English again


def test_the_verdict_points_at_the_changed_line_of_its_cell(executed: Any) -> None:
    """The learner's line beside Listing 2.5's, located as IPython's tracebacks locate it (``cell
    In[n], line m``), in the HTML of ``%llmspec`` (the line marked) and in ``llmspec.check()``."""
    n = len(executed.cells)
    cell = next(c for c in executed.cells if BUGGY_LOOP in c.source)
    line = cell.source.splitlines().index(BUGGY_LOOP.join(("    " * 2, ""))) + 1
    html = _html_of(executed, n - 6)  # %llmspec dataset dataloader --lang zh
    assert f"你的 GPTDatasetV1.__init__ 与代码清单 2.5(2.6)对照:" in html
    assert f"<code>单元格 In[{cell.execution_count}],第 {line} 行</code>" in html
    assert f'<mark style="background:#ffebe9">{line:>4}      {BUGGY_LOOP}</mark>' in html
    assert f'<mark style="background:#dafbe1">    {CORRECT_LOOP}</mark>' in html
    (difference,) = _report_of(executed, n - 5)["hint"]  # llmspec.check() in the kernel
    assert (difference["cell"], difference["line"]) == (f"In[{cell.execution_count}]", line)
    assert (difference["yours"], difference["listing"]) == (BUGGY_LOOP, CORRECT_LOOP)
    assert _report_of(executed, n - 1)["hint"] is None  # fixed: nothing to point at


def test_a_typo_in_the_magic_is_one_line(executed: Any) -> None:
    (err,) = [o for o in _outputs(executed.cells[1], "stream") if o["name"] == "stderr"]
    assert err["text"].startswith("%llmspec: unknown stage(s) datasets; choose from tokenizer_v1")
    assert not _outputs(executed.cells[1], "error") and len(err["text"].splitlines()) == 1


def test_after_the_fix_the_same_kernel_passes(executed: Any) -> None:
    n = len(executed.cells)
    html = _html_of(executed, n - 2)
    for stage in ("tokenizer_v1", "tokenizer_v2", "bpe", "dataset", "dataloader", "embeddings"):
        assert f'<tr data-stage="{stage}" data-status="pass">' in html, stage
    assert "pass (judged from state)" in html  # the inline 2.7-2.8 cells, read from the live kernel
    report = _report_of(executed, n - 1)
    assert report["ok"] and report["first"] is None
    assert all(status == "pass" and passed == total for status, passed, total in report["stages"].values())


def test_the_check_leaves_the_learners_session_alone(executed: Any) -> None:
    import random

    import torch

    torch.manual_seed(7)
    random.seed(7)
    expected = [torch.rand(1).item(), random.random()]
    n = len(executed.cells)
    for index in (n - 5, n - 1):
        report = _report_of(executed, index)
        assert report["rng"] == expected  # the draws a learner's next cell gets, as if no check ran
        assert report["same_cwd"]
        assert report["new_names"] == [] and report["rebound"] == []


# --- in this process: what a check puts back -------------------------------------------------------


def _namespace(path: Path) -> dict[str, Any]:
    data.ensure_tiktoken_cache()
    namespace: dict[str, Any] = {"__name__": "learner"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def _process_state() -> dict[str, Any]:
    import gc
    import os
    import random
    import sys
    import warnings

    import torch
    from hypothesis import settings

    return {
        "cwd": os.getcwd(), "path": list(sys.path), "meta_path": list(sys.meta_path),
        "env": dict(os.environ), "random": random.getstate(), "torch": torch.get_rng_state().tolist(),
        "grad": torch.is_grad_enabled(), "profile": settings._current_profile,
        "max_examples": settings.default.max_examples, "frozen": gc.get_freeze_count() > 0,
        "warnings": list(warnings.filters), "streams": (sys.stdin, sys.stdout, sys.stderr),
    }


def test_a_check_in_process_restores_the_session() -> None:
    """Two checks (the first warms the trusted side up): after the second, the process is as it was
    before it, and the learner's modules are the very objects they were."""
    import sys

    from llmspec.kernel import check

    namespace = _namespace(BOOK_STYLE)
    keys = dict(namespace)
    first = check("tokenizer_v1", "dataset", namespace=namespace)
    assert first.ok and first["dataset"].passed == first["dataset"].total > 0
    before, modules = _process_state(), dict(sys.modules)
    again = check("tokenizer_v1", "dataset", namespace=namespace)
    assert again.ok
    assert _process_state() == before
    assert dict(sys.modules) == modules
    assert namespace == keys  # nothing bound, nothing rebound


def test_a_fixed_definition_gets_the_new_verdict() -> None:
    from llmspec.kernel import check

    namespace = _namespace(BOOK_STYLE)
    good = namespace["GPTDatasetV1"]

    class StrideForgotten(good):  # type: ignore[misc, valid-type]
        def __init__(self, txt: str, tokenizer: Any, max_length: int, stride: int) -> None:
            super().__init__(txt, tokenizer, max_length, 1)

    namespace["GPTDatasetV1"] = StrideForgotten
    broken = check("dataset", namespace=namespace)
    assert broken["dataset"].status == "fail" and not broken.ok
    assert "Listing 2.5" in broken["dataset"].first_failure["message"]
    assert 'data-status="fail"' in broken._repr_html_() and "dataset" in str(broken)
    namespace["GPTDatasetV1"] = good
    assert check("dataset", namespace=namespace).ok


def test_unknown_stage_is_a_value_error() -> None:
    from llmspec.kernel import check

    with pytest.raises(ValueError, match="unknown stage"):
        check("datasets", namespace={})


def test_a_script_checks_its_own_globals(tmp_path: Path) -> None:
    """Outside IPython, ``llmspec.check()`` judges the globals of the code that called it (a
    script's ``__main__``), and ``print`` shows the text table."""
    import os
    import subprocess
    import sys

    book = (BOOK_STYLE).read_text(encoding="utf-8")
    script = tmp_path / "my_ch02.py"
    script.write_text("import llmspec, llmspec.data\nllmspec.data.ensure_tiktoken_cache()\n" + book
                      + '\nresult = llmspec.check("tokenizer_v1", "dataset")\nprint(result)\n'
                      'print("ok" if result.ok else "not ok", sorted(result.stages))\n', encoding="utf-8")
    shutil.copyfile(data.locate().verdict, tmp_path / "the-verdict.txt")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "LLMSPEC_LANG": "en"}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "llmspec check: __main__ (edition print)" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "ok ['dataset', 'tokenizer_v1']"
