#!/usr/bin/env bash
# Time to first token in `dagsmith serve` under concurrent users, with and without prompt prefix
# reuse (`--no-prefix-reuse`): the numbers behind docs/BENCHMARKS.md ("Prefix reuse").
#
# Each round starts the release server once per setting (interleaved: reuse, then no reuse) and
# has USERS clients post /api/generate at the same moment (streaming, no repair round), each
# with a different instruction of the built-in set, and records for each client the time from
# sending its request to its first `token` event, and to the end. Every request shares the
# system prompt (and whatever else the generation prompt puts before the instruction).
#
#   MODEL=models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf scripts/bench-serve-ttft.sh
#
# Optional: MODEL (default: the test model), USERS (4), ROUNDS (3), MAX_TOKENS (16), THREADS,
#           PORT (18090), NO_BUILD=1 (use the binary already built), PROFILE (release, or
#           debug for the dev-profile binary), OUT (JSON results).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="${MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
USERS="${USERS:-4}"
ROUNDS="${ROUNDS:-3}"
MAX_TOKENS="${MAX_TOKENS:-16}"
PORT="${PORT:-18090}"
OUT="${OUT:-$CACHE/bench/serve-ttft-$(date +%Y%m%d-%H%M%S).json}"
PROFILE="${PROFILE:-release}"
DAGSMITH="$CARGO_TARGET_DIR/$PROFILE/dagsmith"
[[ -f $MODEL ]] || { echo "error: model $MODEL not found" >&2; exit 2; }
if [[ -z ${NO_BUILD:-} ]]; then cargo build --profile "${PROFILE/debug/dev}" -q -p dagsmith; fi
mkdir -p "$(dirname "$OUT")"
threads=()
if [[ -n ${THREADS:-} ]]; then threads=(--threads "$THREADS"); fi

python3 - "$DAGSMITH" "$MODEL" "$PORT" "$USERS" "$ROUNDS" "$MAX_TOKENS" "$OUT" "${threads[@]}" <<'PY'
import concurrent.futures, http.client, json, statistics, subprocess, sys, time

dagsmith, model, port, users, rounds, max_tokens, out = sys.argv[1:8]
port, users, rounds, max_tokens = int(port), int(users), int(rounds), int(max_tokens)
extra = sys.argv[8:]
rows = [json.loads(l) for l in open("datasets/instructions.jsonl") if l.strip()]

def instruction(row):
    user = next(m["content"] for m in row["messages"] if m["role"] == "user")
    text, _, version = user.rpartition("Airflow Version:")
    return text.strip(), version.strip() or "3.1"

def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()

def one(i, start_at):
    text, version = instruction(rows[i % len(rows)])
    body = json.dumps({"instruction": text, "airflow_version": version,
                       "max_tokens": max_tokens, "repair": 0})
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    c.request("POST", "/api/generate", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read())
    first = None
    event = None
    while True:
        line = r.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "token" and first is None:
            first = time.time() - t0
        elif line.startswith("data:") and event in ("done", "error"):
            break
    return first, time.time() - t0

results = {"model": model, "users": users, "max_tokens": max_tokens, "rounds": []}
for rnd in range(rounds):
    for reuse in (True, False):
        args = [dagsmith, "serve", "--model", model, "--port", str(port), "--parallel", str(users),
                "--max-tokens", str(max_tokens)] + extra + ([] if reuse else ["--no-prefix-reuse"])
        server = subprocess.Popen(args, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            deadline = time.time() + 300
            while True:
                try:
                    if get("/api/health")[0] == 200:
                        break
                except OSError:
                    pass
                if time.time() > deadline:
                    sys.exit("server did not start")
                time.sleep(0.2)
            load = open("/proc/loadavg").read().split()[0]
            start_at = time.time() + 0.2
            with concurrent.futures.ThreadPoolExecutor(users) as pool:
                got = list(pool.map(lambda i: one(i, start_at), range(users)))
        finally:
            server.terminate()
            server.wait()
        ttft = [g[0] for g in got]
        results["rounds"].append({"round": rnd, "reuse": reuse, "load": float(load),
                                  "ttft": ttft, "total": [g[1] for g in got]})
        print(f"round {rnd + 1} reuse={'on ' if reuse else 'off'} load {load}: TTFT "
              + " ".join(f"{t:.2f}" for t in sorted(ttft)) + " s", file=sys.stderr)
json.dump(results, open(out, "w"), indent=1)
print(f"\n| prefix reuse | TTFT mean s | TTFT median s | TTFT max s | answer done, mean s | load |")
print("|---|---:|---:|---:|---:|---|")
for reuse in (True, False):
    rs = [r for r in results["rounds"] if r["reuse"] == reuse]
    t = [x for r in rs for x in r["ttft"]]
    d = [x for r in rs for x in r["total"]]
    loads = [r["load"] for r in rs]
    print(f"| {'on' if reuse else 'off'} | {statistics.mean(t):.2f} | {statistics.median(t):.2f} | "
          f"{max(t):.2f} | {statistics.mean(d):.2f} | {min(loads):.1f}–{max(loads):.1f} |")
print(f"\n({users} users at once, {len(results['rounds']) // 2} rounds, results in {out})")
PY
