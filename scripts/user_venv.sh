#!/usr/bin/env bash
# An environment that users other than root can run: Debian's python3 (this machine's default
# interpreter lives under /root, which no other user may read) with the packages llmspec needs.
# Used by tests/e2e/test_sandbox_unprivileged.py, which grades hostile submissions as `nobody`.
# Usage: scripts/user_venv.sh [DIR]   (default /opt/llmspec-venv; kept when it already works)
set -euo pipefail
venv="${1:-${LLMSPEC_USER_VENV:-/opt/llmspec-venv}}"
check='import torch, tiktoken, pytest, hypothesis'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "user venv: $venv is ready"
  exit 0
fi
if ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
  (export DEBIAN_FRONTEND=noninteractive; timeout 300 apt-get update -qq \
    && timeout 300 apt-get install -y -qq python3-venv) >/dev/null 2>&1 || true
fi
rm -rf "$venv"
umask 022
timeout 120 /usr/bin/python3 -m venv "$venv"
# torch from the local CPU wheel; the rest as pinned by the project (no build step: no -e install)
timeout 600 "$venv/bin/python" -m pip install -q --disable-pip-version-check torch==2.13.0 numpy tiktoken pytest hypothesis
chmod -R a+rX "$venv"
"$venv/bin/python" -c "$check"
echo "user venv: built $venv"
