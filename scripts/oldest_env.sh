#!/usr/bin/env bash
# The oldest versions pyproject.toml accepts, in a venv of their own, and a smoke check there:
# `llmspec check` on a correct and a buggy file, `llmspec grade` on a small class.  CI runs it so
# that the declared ranges are true (a fresh `pip install` may take any release they admit).
# Usage: scripts/oldest_env.sh [DIR]   (default: a temporary directory, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
if [ $# -ge 1 ]; then venv=$1; else venv="$work/oldest"; fi  # the default goes with the work directory
trap 'rm -rf "$work"' EXIT
pins=$(python3 scripts/oldest_versions.py)
echo "oldest: $pins"
python3 -m venv "$venv"
# the project without its dependencies first, then exactly the oldest ones (pip must not upgrade them)
"$venv/bin/python" -m pip install -q --disable-pip-version-check $pins
# from a copy of the tracked files: a build in the checkout would leave build/ there, a second copy of
# spec_tests/ that tools reading the tree (and pytest's own collection) would find
mkdir "$work/src"
git ls-files -z | xargs -0 cp --parents -t "$work/src"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$work/src"
"$venv/bin/python" -m pip check
py="$venv/bin/python"
mkdir "$work/run"
cd "$work/run"
good=$OLDPWD/tests/suite/variants/correct/book_style.py
"$py" -m llmspec check "$good" > check-good.txt || { cat check-good.txt; echo "oldest: a correct file did not pass"; exit 1; }
python3 "$OLDPWD/tests/suite/variants/make_buggy.py" >/dev/null
set +e
"$py" -m llmspec check "$OLDPWD/tests/suite/variants/buggy/ds_stride_ignored.py" > check-bug.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat check-bug.txt; echo "oldest: a buggy file exited $rc, not 1"; exit 1; }
mkdir class
cp "$good" class/good.py
cp "$OLDPWD/tests/suite/variants/buggy/ds_stride_ignored.py" class/buggy.py
"$py" -m llmspec grade class --out grades -q
"$py" - <<'PY'
import csv
rows = {r["submission"]: r for r in csv.DictReader(open("grades/gradebook.csv"))}
assert float(rows["good"]["score"]) == 100.0, rows["good"]
assert float(rows["buggy"]["score"]) < 100.0, rows["buggy"]
print("oldest: check and grade agree with the current versions (correct 100/100, buggy "
      + rows["buggy"]["score"] + ")")
PY
