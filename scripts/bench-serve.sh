#!/usr/bin/env bash
# Server load on loopback: the numbers behind docs/BENCHMARKS.md ("Server").
#
#   scripts/bench-serve.sh                       # the test model (SmolLM2-135M-Instruct Q4_1)
#   MODEL=path/to/qwen.gguf scripts/bench-serve.sh
#
# 1. /api/validate: wrk (Debian package `wrk`) posts one DAG file for DURATION seconds over
#    CONNECTIONS keep-alive connections: requests/s, p50 and p99 latency.
# 2. Generation: for 1, 4 and 8 concurrent clients, ROUNDS x clients non-streaming
#    /v1/chat/completions requests of exactly MAX_TOKENS new tokens each (ignore_eos, greedy):
#    total generated tokens/s over the wall time, and p50/p99 request latency.
# The server runs with --parallel 8, so up to 8 requests decode in one batch.
#
# Optional: MODEL, PORT (18080), DURATION (10), CONNECTIONS (4), MAX_TOKENS (128), ROUNDS (2),
#           THREADS (llama.cpp threads, default: the server's default, physical cores),
#           NO_BUILD=1 to use the release binary already built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
MODEL="${MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
PORT="${PORT:-18080}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
MAX_TOKENS="${MAX_TOKENS:-128}"
ROUNDS="${ROUNDS:-2}"
DAGSMITH="$CARGO_TARGET_DIR/release/dagsmith"

command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install wrk)" >&2; exit 2; }
[[ -f $MODEL ]] || { echo "error: model $MODEL not found (scripts/setup.sh)" >&2; exit 2; }
if [[ -z ${NO_BUILD:-} ]]; then cargo build --release -q -p dagsmith; fi

threads=()
if [[ -n ${THREADS:-} ]]; then threads=(--threads "$THREADS"); fi
log=$(mktemp)
"$DAGSMITH" serve --model "$MODEL" --port "$PORT" --parallel 8 --queue 64 \
  --ctx $((MAX_TOKENS + 512)) --max-tokens "$MAX_TOKENS" "${threads[@]}" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT

python3 - "$PORT" "$DURATION" "$CONNECTIONS" "$MAX_TOKENS" "$ROUNDS" "$MODEL" <<'PY'
import concurrent.futures, http.client, json, os, re, subprocess, sys, tempfile, time

port, duration, connections, max_tokens, rounds = (int(a) for a in sys.argv[1:6])
model = sys.argv[6]

def request(method, path, body=None, timeout=600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data

deadline = time.time() + 120
while True:
    try:
        status, data = request("GET", "/api/health", timeout=2)
        if status == 200:
            health = json.loads(data)
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("server did not start")
    time.sleep(0.2)
assert health["generation"]["available"], health

DAG = '''from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def extract(**context):
    return [1, 2, 3]


def transform(ti, **context):
    rows = ti.xcom_pull(task_ids="extract")
    return [r * 2 for r in rows]


default_args = {"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=5)}

with DAG(
    dag_id="daily_sales_etl",
    default_args=default_args,
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    catchup=False,
    tags=["etl", "sales"],
) as dag:
    start = BashOperator(task_id="start", bash_command="echo start")
    extract_task = PythonOperator(task_id="extract", python_callable=extract)
    transform_task = PythonOperator(task_id="transform", python_callable=transform)
    load = BashOperator(task_id="load", bash_command="echo load {{ ds }}")
    start >> extract_task >> transform_task >> load
'''

# 1. /api/validate under wrk.
body = json.dumps({"code": DAG, "airflow_version": "2.9"})
status, data = request("POST", "/api/validate", json.loads(body))
assert status == 200 and json.loads(data)["loads"], data
with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
    lua.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
    lua.write("wrk.body = [==[" + body + "]==]\n")
out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
                      lua.name, f"http://127.0.0.1:{port}/api/validate"],
                     check=True, capture_output=True, text=True).stdout
os.unlink(lua.name)

def wrk_ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

if "Non-2xx" in out or "Socket errors" in out:
    sys.exit("wrk saw errors:\n" + out)
validate = {
    "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    "p50_ms": wrk_ms("50"), "p99_ms": wrk_ms("99"),
}

# 2. Generation at 1, 4 and 8 concurrent requests.
INSTRUCTIONS = [
    "Write a DAG that runs a bash command every day.",
    "Create a TaskFlow pipeline that extracts, transforms and loads sales data.",
    "Build a DAG with a sensor waiting for a file, then a Python task.",
    "Make a DAG that branches on the weekday.",
    "Dynamic task mapping over three file names.",
    "A DAG with a task group of two tasks.",
    "Copy a table from Postgres to S3 every hour.",
    "Send a Slack message when a daily report is ready.",
]

def generate(i):
    body = {"model": "local", "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0,
            "messages": [{"role": "user", "content": INSTRUCTIONS[i % len(INSTRUCTIONS)] +
                          "\n\nAirflow Version: 2.9"}]}
    start = time.perf_counter()
    status, data = request("POST", "/v1/chat/completions", body)
    assert status == 200, data
    return time.perf_counter() - start, json.loads(data)["usage"]["completion_tokens"]

generate(0)  # warm-up: first-touch of the weights
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

gen = []
for clients in (1, 4, 8):
    n = clients * rounds
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(generate, range(n)))
    wall = time.perf_counter() - start
    tokens = sum(t for _, t in results)
    assert tokens == n * max_tokens, (tokens, n, max_tokens)
    lat = [s for s, _ in results]
    gen.append({"clients": clients, "requests": n, "tokens": tokens, "seconds": wall,
                "tokens_per_second": tokens / wall, "p50_s": pct(lat, 50), "p99_s": pct(lat, 99)})

load = os.getloadavg()
print(json.dumps({"model": os.path.basename(model), "validate": validate, "generate": gen,
                  "loadavg": load, "cpus": os.cpu_count()}, indent=1), file=sys.stderr)
print(f"model {os.path.basename(model)}; {os.cpu_count()} CPUs; load average after: "
      f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
print(f"| /api/validate | requests | requests/s | p50 | p99 |\n|---|---:|---:|---:|---:|")
print(f"| {connections} connections, {duration} s | {validate['requests']} | "
      f"{validate['requests_per_second']:,.0f} | {validate['p50_ms']:.2f} ms | "
      f"{validate['p99_ms']:.2f} ms |\n")
print(f"| concurrent generations | requests x tokens | wall | total tokens/s | p50 | p99 |")
print("|---:|---:|---:|---:|---:|---:|")
for g in gen:
    print(f"| {g['clients']} | {g['requests']} x {max_tokens} | {g['seconds']:.1f} s | "
          f"{g['tokens_per_second']:.1f} | {g['p50_s']:.1f} s | {g['p99_s']:.1f} s |")
PY
