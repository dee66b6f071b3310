# The two jobs of the README's quick start. Each sets itself up first, so each works on a fresh machine.
#   make check  - the main job: the spec suite against the reference, with a per-stage summary
#   make test   - the project's own tests (what CI runs)
#   make mutate - every first-order mutant of reference/ judged by the spec suite (tests/suite/mutation/)
# The book's data is located through LLMSPEC_DATA (default: ../shared/data beside the project, if present).
PYTHON ?= python3
LLMSPEC_DATA ?= $(abspath $(CURDIR)/../shared/data)
export LLMSPEC_DATA

.PHONY: setup check test bench mutate

setup:
	$(PYTHON) -m pip install -q torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[test]'

check: setup
	$(PYTHON) -m llmspec check

# the project's own tests, then their line coverage of llmspec/ and reference/ (pytest-cov)
test: setup
	@$(PYTHON) -m pytest --cov=llmspec --cov=reference --cov-report=term; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make test: pytest collected no tests' >&2; exit 1; fi; exit $$rc

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PYTHON) $$b || exit 1; done

# One mutant at a time, niced, each in a forked warm child with a wall-clock timeout; exits 1 when a
# survivor of any reference file (bpe_scratch.py and pretokenizer.py included: no lower bar for the
# bonus) is not on tests/suite/mutation/equivalent.txt.
mutate: setup
	nice -n 15 $(PYTHON) tests/suite/mutation/mutate.py --timeout 30 $(MUTATE_ARGS)
