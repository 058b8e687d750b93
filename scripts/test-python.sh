#!/usr/bin/env bash
# dagsmith through Python's channels, end to end (a step of scripts/test.sh):
#   1. the wheel: maturin builds it (no local model, release), pip installs it into a fresh venv,
#      and `dagsmith validate`, `dagsmith rules`, `python -m dagsmith` and `dagsmith generate
#      --backend` (against an OpenAI-compatible server scripted here) run from there;
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
# The release profile's whole-program optimisation (Cargo.toml) makes the binary faster, not
# different; this test is about the packaging, and without it a rebuild after a change takes
# ~20 s instead of ~2 min (pre-commit's build of the hook inherits the same settings).
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
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
expect 2 "the wheel has no local model, and says so" \
  in_venv dagsmith generate -i "a DAG" -- "no local model" "--backend URL"
expect 2 "the wheel has no server, and says so" in_venv dagsmith serve -- "needs model support"

# The wheel generates on OpenAI-compatible backends: against a scripted one on 127.0.0.1 that
# streams good.py as every answer, and refuses requests without the API key.
python3 - "$work/dags/good.py" >"$work/backend-url" 2>"$work/backend.log" <<'PY' &
import http.server, json, sys

answer = "```python\n" + open(sys.argv[1]).read() + "```"

class Backend(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, kind="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/v1/models":
            self.reply(200, json.dumps({"object": "list", "data": [{"id": "mock", "object": "model"}]}))
        else:
            self.reply(404, "{}")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != "Bearer test-key":
            return self.reply(401, json.dumps({"error": {"message": "bad key"}}))
        if self.path != "/v1/chat/completions" or not body.get("stream"):
            return self.reply(400, json.dumps({"error": {"message": "streaming chat only"}}))
        chunks = [{"choices": [{"index": 0, "delta": {"content": answer[i:i + 40]}}]}
                  for i in range(0, len(answer), 40)]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        chunks.append({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 50}})
        events = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self.reply(200, events, "text/event-stream")

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
PY
backend_pid=$!
trap 'kill "$backend_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [[ -s $work/backend-url ]] && break; sleep 0.1; done
backend=$(head -n 1 "$work/backend-url")
cat >"$work/rows.jsonl" <<'JSONL'
{"messages": [{"role": "user", "content": "Two empty tasks, start then end.\n\nAirflow Version: 3.1.0"}], "metadata": {"file_name": "a.py"}}
{"messages": [{"role": "user", "content": "A start task and an end task.\n\nAirflow Version: 3.0.6"}], "metadata": {"file_name": "b.py"}}
JSONL
expect 0 "dagsmith generate --backend: a dataset on an OpenAI-compatible server" \
  in_venv env DAGSMITH_API_KEY=test-key dagsmith generate --input rows.jsonl -o out.jsonl \
  --backend "$backend" -- "2 DAGs generated"
expect 0 "every row written, validated, with the backend recorded" \
  python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2, len(rows)
for r in rows:
    d = r["metadata"]["dagsmith"]
    assert d["loads"] and d["attempts"][0]["backend"] == sys.argv[2], d
print("rows ok")' "$work/out.jsonl" "$backend" -- "rows ok"
expect 2 "dagsmith generate --backend without the API key: refused, and the run stops" \
  in_venv env -u DAGSMITH_API_KEY -u OPENAI_API_KEY timeout 60 dagsmith generate -i "a DAG" \
  --backend "$backend" -- "every backend refused" "HTTP 401: bad key" "check the API key"
kill "$backend_pid" 2>/dev/null || true

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
