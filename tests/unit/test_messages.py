"""Messages that teach: a word missing from the vocabulary is named with why (the MEAP regex keeps ';'
attached: ``'up;'``) and which ``--edition`` to use; a target that cannot load gets its one-line
reason and exit code 2 from ``llmspec check``, not a table of zeros."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest


import book_targets as T  # noqa: E402
from llmspec.errors import ImplError  # noqa: E402
from spec_tests._expect import keyerror_word, why_not_in_vocabulary  # noqa: E402


def test_the_keyerror_word_is_read_from_the_message():
    assert keyerror_word(ImplError("KeyError", "'up;'", ["KeyError", "LookupError"])) == "up;"
    assert keyerror_word(ImplError("KeyError", "not a literal", ["KeyError"])) is None
    assert keyerror_word(ImplError("ValueError", "'up;'", ["ValueError"])) is None


def test_why_a_word_is_not_in_the_vocabulary():
    text = "the picture 'way up; but I don't"
    meap_word = why_not_in_vocabulary("up;", "print", text)
    assert "keeps ';' attached to 'up'" in meap_word and "MEAP edition's regex" in meap_word
    assert "--edition meap" in meap_word and "'way up; but" in meap_word
    print_piece = why_not_in_vocabulary(":", "meap")
    assert "cuts ':' off the word before it" in print_piece and "--edition print" in print_piece
    other = why_not_in_vocabulary("Hello,", "print")
    assert "splits the text differently" in other and "re.split(r'([,.:;?_!\"()\\']|--|\\s)'" in other


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("messages")
    (tmp / "meap_ch02.py").write_text(T.MEAP_FILE)
    (tmp / "print_ch02.py").write_text(T.BASE)
    (tmp / "broken.py").write_text("import torch\nraise RuntimeError('boom at import')\n")
    (tmp / "syntax.py").write_text("def f(:\n")
    (tmp / "plain_encode.py").write_text(T.BASE.replace('tokenizer.encode(txt, allowed_special={"<|endoftext|>"})',
                                                        "tokenizer.encode(txt)", 1))
    (tmp / "value_error.py").write_text(T.BASE.replace(
        "ids = [self.str_to_int[s] for s in preprocessed]",
        "ids = [self.str_to_int[s] if s in self.str_to_int else self.unknown(s) for s in preprocessed]", 1).replace(
        "    def decode(self, ids):", "    def unknown(self, s):\n        raise ValueError(f'unknown token {s!r}')\n\n"
        "    def decode(self, ids):", 1))
    (tmp / "wrong_dict.py").write_text(T.BASE.replace("ids = [self.str_to_int[s] for s in preprocessed]",
                                                      "ids = [self.int_to_str[s] for s in preprocessed]", 1))
    return T.run_suites({"meap_as_print": [str(tmp / "meap_ch02.py"), "--edition", "print", "--stages",
                                           "tokenizer_v1,tokenizer_v2,dataset"],
                         "print_as_meap": [str(tmp / "print_ch02.py"), "--edition", "meap", "--stages", "tokenizer_v1"],
                         "broken": [str(tmp / "broken.py")],
                         "broken_isolated": [str(tmp / "broken.py"), "--isolate"],
                         "broken_isolated_relative": ["broken.py", "--isolate"],
                         "syntax": [str(tmp / "syntax.py")],
                         "value_error": [str(tmp / "value_error.py"), "--stages", "tokenizer_v1"],
                         "plain_encode": [str(tmp / "plain_encode.py"), "--stages", "dataset"],
                         "wrong_dict": [str(tmp / "wrong_dict.py"), "--stages", "tokenizer_v1"]}, tmp)


def _first_failure(report, stage):
    return next(t["message"] for t in report["tests"] if t["stage"] == stage and t["outcome"] == "failed")


def test_the_whole_story_names_the_missing_word_and_the_edition(runs):
    code, out, report = runs["print_as_meap"]
    story = next(t for t in report["tests"] if t["name"] == "test_encodes_the_whole_story")
    assert "raised KeyError: 'speculations'" in story["message"]
    assert "(the text has 'uch purely academic speculations; and having" in story["message"]
    code, out, report = runs["meap_as_print"]  # the print book's own Listing 2.3 splits as the MEAP's
    assert report["stages"]["tokenizer_v1"]["status"] == "pass"


def test_a_print_tokenizer_beside_a_plain_encode_is_told_to_pass_allowed_special(runs):
    """Tokenizers that split as the print edition's, a dataset that calls plain tokenizer.encode(txt):
    --edition meap would fail the tokenizers, so the message asks for allowed_special instead."""
    code, out, report = runs["plain_encode"]
    dataset = "\n".join(t["message"] for t in report["tests"] if t["stage"] == "dataset")
    assert dataset.count("your SimpleTokenizerV2 splits as the print edition's, whose Listing 2.5 passes "
                         "allowed_special={'<|endoftext|>'}") == 2, dataset
    assert "--edition meap" not in dataset


def test_another_exception_for_an_unknown_word_is_told_which_the_book_raises(runs):
    code, out, report = runs["value_error"]
    first = _first_failure(report, "tokenizer_v1")
    assert "raised ValueError: unknown token 'Hello'" in first, first
    assert "the book's tokenizer raises KeyError here: 'Hello' is not in the vocabulary" in first, first


def test_a_word_of_the_vocabulary_looked_up_in_the_wrong_dict_is_not_blamed_on_the_split(runs):
    """encode looking words up in int_to_str: the KeyError names a word the vocabulary has, so the
    split is not what is wrong."""
    code, out, report = runs["wrong_dict"]
    first = _first_failure(report, "tokenizer_v1")
    assert "is in the vocabulary (id " in first and "another dict than the vocabulary" in first, first
    assert "splits the text differently" not in out


def test_v2_and_dataset_failures_point_at_the_edition(runs):
    code, out, report = runs["meap_as_print"]
    assert "hint: the suite judges the print edition, but SimpleTokenizerV2 keeps ':' and ';' attached" \
        in _first_failure(report, "tokenizer_v2")
    dataset = "\n".join(t["message"] for t in report["tests"] if t["stage"] == "dataset")
    assert dataset.count("the MEAP edition's Listing 2.5 calls plain tokenizer.encode(txt)") == 2


@pytest.mark.parametrize("name, reason", [
    ("broken", "importing failed at"),
    ("broken_isolated", "importing failed at"),
    ("broken_isolated_relative", "cannot load broken.py: importing failed at"),
    ("syntax", "syntax.py:1: SyntaxError: invalid syntax"),
])
def test_a_target_that_cannot_load_gets_one_line_and_exit_2(runs, name, reason):
    code, out, report = runs[name]
    assert code == 2
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("llmspec check: cannot load ") and reason in lines[0], out
    assert "passed/total" not in out
    # the target named once ("cannot load X: importing failed ..."), isolated too
    assert "importing failed" not in reason or lines[0].split(": importing failed")[0].count(": ") == 1, out


def test_an_error_from_the_worker_is_cut_to_what_a_learner_reads() -> None:
    """A worker's exception text goes into every report: 20 MB of it would fill the grader's disk."""
    err = ImplError.from_wire({"exc_type": "ValueError", "message": "A" * 20_000_000, "mro": ["ValueError"],
                               "tb": "B" * 30_000})
    assert err.message == "A" * 20_000 + "... [19980000 more characters]"
    assert err.tb.endswith("... [10000 more characters]") and err.is_a("ValueError")
    short = ImplError("KeyError", "'up;'", ["KeyError", "LookupError"], "Traceback ...")
    assert ImplError.from_wire(short.to_wire()).to_wire() == short.to_wire()  # a short one passes whole
