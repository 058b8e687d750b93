#!/usr/bin/env bash
# dagsmith through Python's channels, end to end (a step of scripts/test.sh):
#   1. the wheel: maturin builds it (validate-only, release), pip installs it into a fresh venv,
#      and `dagsmith validate`, `dagsmith rules` and `python -m dagsmith` run from there;
#   2. pre-commit: the real `pre-commit` installs this repository's hook (.pre-commit-hooks.yaml,
#      from a snapshot commit of the working tree) in a temporary git repository, which then
#      accepts a commit of a good DAG and refuses one of a bad DAG.
# Tools (maturin, pre-commit; pinned) come from scripts/setup-python.sh, run here if needed.
# The wheel is built in its own cargo target dir (DAGSMITH_WHEEL_TARGET, default
# $CARGO_TARGET_DIR/wheel), which pre-commit's own build of the hook reuses.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${DAGSMITH_WHEEL_TARGET:-${CARGO_TARGET_DIR:-$CACHE/target}/wheel}"
TOOLS="$CACHE/venv/bin"

"$ROOT/scripts/setup-python.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/dagsmith-python.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
log() { printf '[test-python] %s\n' "$*" >&2; }
pass() {
  passed=$((passed + 1))
  log "ok: $1"
}
fail() {
  failed=$((failed + 1))
  log "FAILED: $1"
  if [[ -s $work/out ]]; then sed 's/^/    /' "$work/out" | tail -n 40 >&2; fi
}
# expect STATUS NAME CMD... [-- PATTERN...]: CMD exits with STATUS and its output (stdout and
# stderr) contains every PATTERN (fixed strings).
expect() {
  local want=$1 name=$2
  shift 2
  local cmd=() patterns=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    cmd+=("$1")
    shift
  done
  [[ $# -gt 0 ]] && shift
  patterns=("$@")
  local status=0
  "${cmd[@]}" >"$work/out" 2>&1 || status=$?
  if [[ $status -ne $want ]]; then
    fail "$name: exit status $status, expected $want"
    return
  fi
  local p
  for p in "${patterns[@]}"; do
    if ! grep -qF -- "$p" "$work/out"; then
      fail "$name: output lacks '$p'"
      return
    fi
  done
  pass "$name"
}

mkdir -p "$work/dags"
cat >"$work/dags/good.py" <<'PY'
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="good", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
PY
cat >"$work/dags/bad.py" <<'PY'
from datetime import datetime

from airflow.sdk import DAG

with DAG(dag_id="bad", start_date=datetime(2024, 1, 1), schedule=None):
    make_task("start")  # undefined, and nothing dagsmith can fix
PY

# 1. The wheel.
start=$SECONDS
log "maturin build --release (target dir $CARGO_TARGET_DIR)"
if (cd "$ROOT" && "$TOOLS/maturin" build --release --out "$work/wheels") >"$work/out" 2>&1; then
  pass "maturin build ($((SECONDS - start)) s)"
else
  fail "maturin build"
  log "$passed passed, $failed failed"
  exit 1
fi
wheels=("$work"/wheels/dagsmith-*.whl)
wheel=${wheels[0]}
log "wheel: $(basename "$wheel"), $(($(stat -c %s "$wheel") / 1024)) KiB"
expect 0 "the wheel holds the binary and the python -m shim" \
  python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel" \
  -- "/scripts/dagsmith" "dagsmith/__init__.py" "dagsmith/__main__.py"

python3 -m venv "$work/venv"
expect 0 "pip install the wheel into a fresh venv" \
  "$work/venv/bin/python" -m pip install -q --no-index --disable-pip-version-check "$wheel"
# As a user has it: the venv's bin first on PATH.
venv_path="$work/venv/bin:$PATH"
in_venv() { (cd "$work" && PATH="$venv_path" "$@"); }
expect 0 "dagsmith is on PATH" in_venv sh -c 'command -v dagsmith' -- "$work/venv/bin/dagsmith"
expect 0 "dagsmith --version" in_venv dagsmith --version -- "dagsmith "
expect 0 "dagsmith validate: a good DAG loads" in_venv dagsmith validate dags/good.py -- "loads"
expect 1 "dagsmith validate: a bad DAG does not" \
  in_venv dagsmith validate dags/bad.py -- "DS102" "does not load"
expect 1 "dagsmith validate --format github" \
  in_venv dagsmith validate --format github dags/ -- "::error title=dagsmith (DS102),file=dags/bad.py,line=6"
expect 0 "dagsmith rules" in_venv dagsmith rules -- "DS102" "undefined-name"
expect 0 "dagsmith rules DS102" in_venv dagsmith rules DS102 -- "undefined-name"
expect 1 "python -m dagsmith validate" \
  in_venv python -m dagsmith validate dags/ -- "dags/bad.py:6:5: DS102"
expect 0 "python -m dagsmith rules" in_venv python -m dagsmith rules DS101 -- "no-dag"
expect 2 "the wheel has no model support, and says so" \
  in_venv dagsmith generate -i "a DAG" -- "needs model support"

# 2. pre-commit. The hook repository: a commit of this working tree as it is (tracked and
# untracked files that git does not ignore), with fixed dates so that it is reproducible.
hookrepo="$work/hookrepo"
mkdir -p "$hookrepo"
(
  cd "$ROOT"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$hookrepo"
)
export GIT_AUTHOR_NAME=dagsmith GIT_AUTHOR_EMAIL=test@dagsmith.invalid
export GIT_COMMITTER_NAME=dagsmith GIT_COMMITTER_EMAIL=test@dagsmith.invalid
export GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z
git -C "$hookrepo" -c init.defaultBranch=main init -q
git -C "$hookrepo" add -A
git -C "$hookrepo" commit -q -m snapshot
rev=$(git -C "$hookrepo" rev-parse HEAD)

project="$work/project"
mkdir -p "$project/dags"
cp "$work/dags/good.py" "$project/dags/good.py"
cat >"$project/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $hookrepo
    rev: $rev
    hooks:
      - id: dagsmith-fix
      - id: dagsmith-validate
YAML
git -C "$project" -c init.defaultBranch=main init -q
git -C "$project" add -A
export PRE_COMMIT_HOME="$work/pre-commit-home"
start=$SECONDS
log "pre-commit run (installs the hook: pip builds the wheel from the snapshot)"
expect 0 "pre-commit run passes on a good DAG" \
  sh -c "cd '$project' && '$TOOLS/pre-commit' run --all-files" -- "dagsmith validate" "Passed"
log "pre-commit install and run: $((SECONDS - start)) s"
expect 0 "pre-commit install" sh -c "cd '$project' && '$TOOLS/pre-commit' install"
expect 0 "git commit of a good DAG goes through the hook" \
  git -C "$project" commit -m "good DAG" -- "dagsmith validate" "Passed"
cp "$work/dags/bad.py" "$project/dags/bad.py"
git -C "$project" add dags/bad.py
expect 1 "git commit of a bad DAG is refused by the hook" \
  git -C "$project" commit -m "bad DAG" -- "Failed" "dags/bad.py:6:5: DS102"
expect 0 "only the good commit exists" git -C "$project" log --format=%s -- "good DAG"
if git -C "$project" log --format=%s | grep -q "bad DAG"; then
  fail "the bad commit was made"
fi

# The fix hook: a file with a fixable finding (a deprecated import path in Airflow 3) is
# rewritten and the commit stopped; committed again as fixed, it goes through.
git -C "$project" reset -q -- dags/bad.py
rm "$project/dags/bad.py"
cat >"$project/dags/fixable.py" <<'PY'
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id="fixable", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    BashOperator(task_id="hello", bash_command="echo hi")
PY
git -C "$project" add dags/fixable.py
expect 1 "git commit of a fixable DAG is stopped by the fix hook" \
  git -C "$project" commit -m "fixable DAG" -- "dagsmith fix" "files were modified by this hook"
expect 0 "the fix hook rewrote the import" \
  grep -n "^from airflow.providers.standard.operators.bash import BashOperator$" \
  "$project/dags/fixable.py" -- "from airflow.providers.standard"
git -C "$project" add dags/fixable.py
expect 0 "the fixed DAG commits" git -C "$project" commit -m "fixable DAG" -- "dagsmith fix" "Passed"

log "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
