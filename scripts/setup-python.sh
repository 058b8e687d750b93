#!/usr/bin/env bash
# The Python tools the tests use, in a venv under the cache: the official `openai` SDK, which the
# server tests point at `dagsmith serve` to check OpenAI compatibility; maturin, which builds the
# Python wheel (pyproject.toml); pre-commit, to test the hook (.pre-commit-hooks.yaml).
# Idempotent: skips pip when the pinned versions are already installed.
#
# Environment: DAGSMITH_CACHE (default $HOME/.cache/dagsmith); the venv is $DAGSMITH_CACHE/venv.
set -euo pipefail

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
VENV="$CACHE/venv"
# Pinned: the tests exercise the SDK's request and SSE parsing, maturin's wheel layout and
# pre-commit's hook installation, which change between releases.
PACKAGES=(openai==3.51.0 maturin==1.16.0 pre-commit==4.7.0)

log() { printf '[setup-python] %s\n' "$*" >&2; }

# A venv whose python no longer runs (its base interpreter was removed) is rebuilt.
if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'pass' 2>/dev/null; then
  log "venv broken, recreating: $VENV"
  rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
  log "python3 -m venv $VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
fi
missing=()
for spec in "${PACKAGES[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  have=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$name'))" \
    2>/dev/null || true)
  if [[ $have == "$version" ]]; then
    log "$name $version present in $VENV"
  else
    missing+=("$spec")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "pip install ${missing[*]} into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
fi
