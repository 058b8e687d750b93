#!/usr/bin/env bash
# Validation speed: `dagsmith bench validate` vs airflow-net's Python validator, on the same .py
# files, one thread each; the numbers behind docs/BENCHMARKS.md ("Validation speed").
#
#   scripts/bench-validate.sh            # RUNS=3 runs of each measurement; medians at the end
#
# Needs (see docs/BENCHMARKS.md; none of it is in the repository):
#   AIRFLOW_NET_VALIDATOR  airflow-net's src/airflow_net/validation.py
#                          [default: $CACHE/airflow-net/validation.py]
#   AIRFLOW_EXAMPLES       the example_dags trees unpacked from the Airflow wheels:
#                          a2/airflow/example_dags (apache-airflow 2.11.0),
#                          a3/airflow/example_dags (apache-airflow-core 3.1.3)
#                          [default: $CACHE/wheels/ex]; a missing tree is skipped
#   CORPUS                 the shared corpus [default: ../shared/corpus]; its .py subdirectories
#                          are named explicitly so that dagsmith does not also read the .jsonl files
# Optional: RUNS (3), REPEAT (3), EXAMPLES_REPEAT (15): timed passes per run, after 1 warm-up
#           pass, the same for both tools; OUT (where the JSON of every run goes), PYTHON (python3),
#           NO_BUILD=1 to use the binaries already built,
#           SUMMARY_ONLY=1 OUT=DIR to print the tables of an earlier run again.
#           To time another build (e.g. a clean `git archive` of a commit built in its own target
#           directory): CARGO_TARGET_DIR=THAT_DIR NO_BUILD=1 BENCH_COMMIT=SHA.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${DAGSMITH_CACHE:-$HOME/.cache/dagsmith}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
VALIDATOR="${AIRFLOW_NET_VALIDATOR:-$CACHE/airflow-net/validation.py}"
EXAMPLES="${AIRFLOW_EXAMPLES:-$CACHE/wheels/ex}"
CORPUS="${CORPUS:-../shared/corpus}"
RUNS="${RUNS:-3}"
REPEAT="${REPEAT:-3}"                   # timed passes per run over the corpus (845 files)
EXAMPLES_REPEAT="${EXAMPLES_REPEAT:-15}" # over the example DAGs (~65 files: 3 passes is ~50 ms)
PYTHON="${PYTHON:-python3}"
OUT="${OUT:-$CACHE/bench/validate-$(date +%Y%m%d-%H%M%S)}"
DAGSMITH="$CARGO_TARGET_DIR/release/dagsmith"

if [[ ! -f $VALIDATOR ]]; then
  echo "error: airflow-net's validation.py not found at $VALIDATOR" >&2
  echo "  fetch src/airflow_net/validation.py from github.com/andrea-t94/airflow-net (see" >&2
  echo "  docs/BENCHMARKS.md) and set AIRFLOW_NET_VALIDATOR; keep it out of this repository" >&2
  exit 2
fi

if [[ -z ${NO_BUILD:-}${SUMMARY_ONLY:-} ]]; then
  cargo build --release -p dagsmith
fi
mkdir -p "$OUT"
if [[ -n ${SUMMARY_ONLY:-} ]]; then
  RUNS=$(find "$OUT" -maxdepth 1 -name '*.dagsmith.*.json' | sed 's/.*\.\([0-9]*\)\.json$/\1/' | sort -n | tail -1)
fi

# name | dagsmith --airflow-version | timed passes | paths...
sets=()
corpus_dirs=()
for d in "$CORPUS"/*/; do
  compgen -G "${d}*.py" >/dev/null && corpus_dirs+=("${d%/}")
done
if ((${#corpus_dirs[@]})); then
  sets+=("corpus|3.1|$REPEAT|${corpus_dirs[*]}")
fi
[[ -d $EXAMPLES/a2/airflow/example_dags ]] &&
  sets+=("examples-2.11|2.11|$EXAMPLES_REPEAT|$EXAMPLES/a2/airflow/example_dags")
[[ -d $EXAMPLES/a3/airflow/example_dags ]] &&
  sets+=("examples-3.1|3.1|$EXAMPLES_REPEAT|$EXAMPLES/a3/airflow/example_dags")
if ((${#sets[@]} == 0)); then
  echo "error: no inputs: neither $CORPUS nor $EXAMPLES has .py files" >&2
  exit 2
fi

if [[ -z ${SUMMARY_ONLY:-} ]]; then
{
  echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [[ -n ${BENCH_COMMIT:-} ]]; then
    echo "commit:    $BENCH_COMMIT (binaries in $CARGO_TARGET_DIR)"
  else
    echo "commit:    $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes under crates/ or Cargo.*')"
  fi
  echo "cpu:       $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
  echo "load:      $(uptime | sed 's/.*load average: //') (1/5/15 min)"
  echo "rustc:     $(rustc --version)"
  echo "python:    $("$PYTHON" --version 2>&1)"
  echo "validator: $VALIDATOR sha256 $(sha256sum "$VALIDATOR" | cut -d' ' -f1)"
  echo "dagsmith:  $DAGSMITH"
} | tee "$OUT/conditions.txt"
echo

for ((run = 1; run <= RUNS; run++)); do
  for entry in "${sets[@]}"; do
    IFS="|" read -r name version repeat paths <<<"$entry"
    read -r -a path_list <<<"$paths"
    echo "run $run/$RUNS: $name (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/conditions.txt"
    # Interleaved, so that both tools see the same machine conditions. Each timed pass of
    # validate() is paired with a parse-only pass of the same binary and allocator
    # (--against-parse): the ratio to the parser's floor, which a busy machine disturbs far less
    # than two separate runs would; the cold ratio comes from this run, the warm one from the
    # `--warm` run below.
    "$DAGSMITH" bench validate --airflow-version "$version" --repeat "$repeat" --json --against-parse \
      "${path_list[@]}" >"$OUT/$name.dagsmith.$run.json"
    "$PYTHON" scripts/bench-airflow-net.py "$VALIDATOR" --repeat "$repeat" --json --slowest 5 "${path_list[@]}" \
      >"$OUT/$name.airflow-net.$run.json"
    "$DAGSMITH" bench validate --airflow-version "$version" --repeat "$repeat" --json --warm \
      --against-parse "${path_list[@]}" >"$OUT/$name.warm.$run.json"
    "$PYTHON" scripts/bench-airflow-net.py "$VALIDATOR" --repeat "$repeat" --json --parse-only "${path_list[@]}" \
      >"$OUT/$name.ast-parse.$run.json"
  done
done
echo "load after: $(uptime | sed 's/.*load average: //')" | tee -a "$OUT/conditions.txt"
echo
fi

"$PYTHON" - "$OUT" "$RUNS" "${sets[@]}" <<'PY'
import json, re, statistics, sys
from pathlib import Path

out, runs, sets = Path(sys.argv[1]), int(sys.argv[2]), [s.split("|")[0] for s in sys.argv[3:]]
med = statistics.median

def load(name, tool):
    return [json.loads((out / f"{name}.{tool}.{r}.json").read_text()) for r in range(1, runs + 1)]

def floor(name):
    """Parse-only, validate (cold) and warm files/s, and validate ÷ parse time cold and warm:
    from `bench validate --against-parse` runs (the median of each run's paired ratios), or for
    older runs from separate `--parse-only` runs or the parse_speed example's text."""
    fps = lambda tool: med(r["files_per_second"] for r in load(name, tool))
    cold = load(name, "dagsmith")
    if cold[0].get("against_parse"):
        warm = load(name, "warm")
        p = med(r["against_parse"]["parse_files_per_second"] for r in cold + warm)
        ratio = lambda rows: med(r["against_parse"]["ratio_median"] for r in rows)
        return p, fps("dagsmith"), fps("warm"), ratio(cold), ratio(warm)
    if (out / f"{name}.parse-only.1.json").exists():
        p, v, w = fps("parse-only"), fps("dagsmith"), fps("warm")
        return p, v, w, p / v, p / w
    parse, validate, warm = [], [], []
    for r in range(1, runs + 1):
        text = (out / f"{name}.parse_speed.{r}.txt").read_text()
        parse.append(float(re.search(r"parse only: \d+ files, ([\d.]+) files/s", text).group(1)))
        validate.append(float(re.search(r"validate: \d+ files, ([\d.]+) files/s", text).group(1)))
        # Older parse_speed builds have no warm pass.
        m = re.search(r"validate warm: \d+ files, ([\d.]+) files/s", text)
        warm.append(float(m.group(1)) if m else float("nan"))
    p, v, w = med(parse), med(validate), med(warm)
    return p, v, w, p / v, p / w

print(f"Medians of {runs} runs (each run: `repeats` timed passes after 1 warm-up, one thread); "
      "ratio = dagsmith files/s / airflow-net files/s of the same run, median (min-max).\n")
print("| set | tool | files | passes | MB | files/s (min-max) | MB/s | mean µs | p50 µs | p99 µs | max µs | dagsmith / airflow-net |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
floors = []
for name in sets:
    ds, an = load(name, "dagsmith"), load(name, "airflow-net")
    ratios = [d["files_per_second"] / a["files_per_second"] for d, a in zip(ds, an)]
    ratio = f"**{med(ratios):.1f}×** ({min(ratios):.1f}-{max(ratios):.1f})"
    for tool, rows in (("dagsmith", ds), ("airflow-net", an)):
        r0 = rows[0]
        fps = [r["files_per_second"] for r in rows]
        cells = [med(r[k] for r in rows) for k in
                 ("mb_per_second", "mean_us", "p50_us", "p99_us", "max_us")]
        print(f"| {name} | {tool} | {r0['files']} | {r0['repeats']} | {r0['bytes'] / 1e6:.2f} | "
              f"{med(fps):,.0f} ({min(fps):,.0f}-{max(fps):,.0f}) | {cells[0]:.2f} | "
              f"{cells[1]:,.0f} | {cells[2]:,.0f} | {cells[3]:,.0f} | {cells[4]:,.0f} | "
              f"{ratio if tool == 'dagsmith' else ''} |")
    if ds[0]["files"] != an[0]["files"] or ds[0]["bytes"] != an[0]["bytes"]:
        print(f"\nWARNING: {name}: the tools saw different inputs "
              f"({ds[0]['files']} files/{ds[0]['bytes']} B vs {an[0]['files']}/{an[0]['bytes']})")
    p, v, w, rv, rw = floor(name)
    ast_fps = med(a["files_per_second"] for a in load(name, "ast-parse"))
    floors.append((name, p, v, w, rv, rw, ast_fps, med(a["files_per_second"] for a in an)))

print("\nParser floors (files/s, medians). `dagsmith bench validate --against-parse` times ruff's"
      " parser alone (tree built and freed) in the same binary and allocator, a parse-only pass"
      " paired with each timed pass of validate(); the ratios are the medians of those pairs;"
      " warm: `--warm`, the searches validate() remembers kept between passes;"
      " bench-airflow-net.py --parse-only times CPython's ast.parse alone.\n")
print("| set | ruff parse only | validate | validate ÷ parse time | validate warm | warm ÷ parse time | 20× airflow-net needs | ast.parse only | airflow-net validate |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, p, v, w, rv, rw, a, av in floors:
    print(f"| {name} | {p:,.0f} | {v:,.0f} | {rv:.2f} | {w:,.0f} | {rw:.2f} | {20 * av:,.0f} | {a:,.0f} | {av:,.0f} |")

print("\nSlowest airflow-net files (median µs, run 1):")
for name in sets:
    for row in load(name, "airflow-net")[0].get("slowest", []):
        print(f"  {name}: {row['median_us']:>10,.0f}  {row['file']}")
PY
echo
echo "raw results: $OUT"
