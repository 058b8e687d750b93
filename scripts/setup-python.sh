#!/usr/bin/env bash
# The Python tools the tests use, in a venv under the cache: the official `openai` SDK, which the
# server tests point at `dagsmith serve` to check OpenAI compatibility. Idempotent: skips pip
# when the pinned version is already installed.
#
# Environment: DAGSMITH_CACHE (default $HOME/.cache/dagsmith); the venv is $DAGSMITH_CACHE/venv.
set -euo pipefail

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
VENV="$CACHE/venv"
# Pinned: the tests exercise the SDK's request and SSE parsing, which change between releases.
OPENAI_VERSION=3.51.0

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
have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("openai"))' \
  2>/dev/null || true)
if [[ $have == "$OPENAI_VERSION" ]]; then
  log "openai $OPENAI_VERSION present in $VENV"
else
  log "pip install openai==$OPENAI_VERSION into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "openai==$OPENAI_VERSION"
fi
