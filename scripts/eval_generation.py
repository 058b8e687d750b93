#!/usr/bin/env python3
"""Real-Airflow verdicts for a `dagsmith generate` run (docs/GENERATION.md).

usage: eval_generation.py OUT.jsonl RUN_NAME [--timeout S] [--fix-with DAGSMITH_BIN [--refix]] [--json FILE]

For every output row, three stages of the answer are loaded with real Airflow's DagBag by the
oracle in ../shared/oracle (2.x requests -> Airflow 2.11.2, 3.x -> 3.1.8; sandboxed: user nobody,
no network, time limit; dagsmith itself never imports generated code):

  raw    the code extracted from the first answer, before any fix
  fixed  that code after dagsmith's fixes (from the row, or made here with --fix-with for runs
         recorded before fixes existed)
  final  the last attempt's code, after up to K repair rounds

and each is compared with dagsmith's own verdict. Identical code is loaded once. Prints a
markdown table and writes the figures as JSON (--json). Needs ORACLE (default
/var/tmp/dagsmith-oracle) prepared by ../shared/oracle/setup.sh.
"""
import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("run")
ap.add_argument("--timeout", default="30")
ap.add_argument("--fix-with", help="dagsmith binary: fix the raw code here (runs without fixes)")
ap.add_argument("--fix-mode", default="safe", choices=["safe", "unsafe"])
ap.add_argument("--refix", action="store_true",
                help="with --fix-with: fix every raw answer again, even where the run recorded its fixes "
                     "(measures new fixes on old answers; the final stage is then the recorded one, or "
                     "the new fixed code where the run made no repair round)")
ap.add_argument("--json", help="write the figures here")
ap.add_argument("--details", help="write per-row verdicts (JSONL) here")
args = ap.parse_args()

R = os.environ.get("ORACLE", "/var/tmp/dagsmith-oracle")
if not os.path.exists(os.path.join(R, "scripts", "run_worker.sh")):
    sys.exit(f"no oracle in {R}: run ORACLE={R} ../shared/oracle/setup.sh first")
gen = os.path.join(R, "gen", args.run)
os.makedirs(gen, exist_ok=True)


def version_of(row):
    user = next((m["content"] for m in row.get("messages", []) if m.get("role") == "user"), "")
    m = re.search(r"Airflow Version:\s*([\d.]+)", user)
    return m.group(1) if m else row.get("metadata", {}).get("dagsmith", {}).get("airflow_version", "3.1")


def fix_code(code, version):
    """The code after `dagsmith fix` (stdin -> stdout), and the tool's verdict of the result."""
    cmd = [args.fix_with, "fix", "-", "--airflow-version", version]
    if args.fix_mode == "unsafe":
        cmd.append("--unsafe-fixes")
    p = subprocess.run(cmd, input=code, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    v = subprocess.run([args.fix_with, "validate", "-", "--airflow-version", version, "--format", "json"],
                       input=p.stdout, capture_output=True, text=True)
    try:
        loads = json.loads(v.stdout)[0]["loads"]
    except (ValueError, KeyError, IndexError):
        loads = v.returncode == 0
    return p.stdout, loads


rows = [json.loads(l) for l in open(args.out) if l.strip()]
rows = [r for r in rows if r.get("metadata", {}).get("dagsmith", {}).get("attempts")]
stages = ("raw", "fixed", "final")
items = []  # per row: id, version, major, {stage: (code, ds_loads)}
for i, row in enumerate(rows):
    ds = row["metadata"]["dagsmith"]
    atts = ds["attempts"]
    first, last = atts[0], atts[-1]
    ver = version_of(row)
    raw_code = first.get("code_before_fixes", first.get("code") or "")
    raw_loads = first.get("loads_before_fixes", first.get("loads", False))
    if args.refix and args.fix_with:
        fixed = fix_code(raw_code, ver)
    elif "code_before_fixes" in first or "loads_before_fixes" in first or "fixes" in first:
        fixed = (first.get("code") or "", first.get("loads", False))
    elif args.fix_with:
        fixed = fix_code(raw_code, ver)
    else:
        fixed = (raw_code, raw_loads)
    final = (last.get("code") or "", last.get("loads", False)) if len(atts) > 1 else fixed
    rid = row.get("metadata", {}).get("file_name") or f"row{ds.get('row', i)}"
    items.append({
        "id": rid, "version": ver, "major": "af2" if ver.startswith("2") else "af3",
        "rounds": len(atts) - 1, "finish": first.get("finish"),
        "restarted": any(a.get("restarted") for a in atts),
        "stages": {"raw": (raw_code, raw_loads), "fixed": fixed, "final": final},
    })

# One oracle job per distinct (major, code).
jobs = {"af2": {}, "af3": {}}
for it in items:
    for st in stages:
        code = it["stages"][st][0]
        h = hashlib.sha256(code.encode()).hexdigest()[:16]
        it.setdefault("hash", {})[st] = h
        if h not in jobs[it["major"]]:
            path = os.path.join(gen, f"{it['major']}_{h}.py")
            with open(path, "w") as f:
                f.write(code)
            jobs[it["major"]][h] = {"id": h, "file": f"gen/{args.run}/{it['major']}_{h}.py", "abs": path}

procs = []
for major, js in jobs.items():
    if not js:
        continue
    jf = os.path.join(gen, f"jobs-{major}.jsonl")
    with open(jf, "w") as f:
        f.write("".join(json.dumps(j) + "\n" for j in js.values()))
    log = open(os.path.join(R, "logs", f"gen-{args.run}-{major}.log"), "w")
    procs.append(subprocess.Popen(
        [os.path.join(R, "scripts", "run_worker.sh"), major, jf, f"gen-{args.run}-{major}.jsonl", args.timeout],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, ORACLE=R)))
for p in procs:
    p.wait()
res = {"af2": {}, "af3": {}}
for major in res:
    p = os.path.join(R, "results", f"gen-{args.run}-{major}.jsonl")
    if os.path.exists(p):
        for line in open(p):
            r = json.loads(line)
            res[major][r["id"]] = r


def loads(r):
    return bool(r and r.get("result_ok") and not r.get("uncaught") and not r.get("import_errors") and r.get("dags"))


def why(r):
    if not r:
        return "no result"
    if not r.get("result_ok"):
        return "timeout/crash"
    if r.get("uncaught"):
        return (r["uncaught"].get("exc_class", "") + ": " + r["uncaught"].get("message", ""))[:200]
    if r.get("import_errors"):
        return r["import_errors"][0]["message"].strip().splitlines()[-1][:200]
    if not r.get("dags"):
        return "no DAG found"
    return ""


def group(ver):
    major_minor = tuple(int(x) for x in ver.split(".")[:2])
    if major_minor < (2, 11) and ver.startswith("2"):
        return "2.7-2.10 (judged by 2.11.2)"
    return "2.11 (2.11.2)" if ver.startswith("2") else "3.x (3.1.8)"


tab = collections.defaultdict(lambda: collections.Counter())
reasons = {st: collections.Counter() for st in stages}
details = []
for it in items:
    d = {"id": it["id"], "version": it["version"], "rounds": it["rounds"], "finish": it["finish"],
         "restarted": it["restarted"]}
    for st in stages:
        r = res[it["major"]].get(it["hash"][st])
        real, ds_ok = loads(r), bool(it["stages"][st][1])
        for key in ("all", group(it["version"])):
            t = tab[key]
            t["rows"] += st == "raw"
            t[f"{st}_real"] += real
            t[f"{st}_ds"] += ds_ok
            t[f"{st}_agree"] += real == ds_ok
            t[f"{st}_false_pass"] += ds_ok and not real
            t[f"{st}_false_alarm"] += real and not ds_ok
        if not real:
            w = why(r)
            reasons[st][re.sub(r"'[^']*'", "'…'", w.split(":")[0] + ":" + ":".join(w.split(":")[1:2]))[:90]] += 1
        d[st] = {"real": real, "dagsmith": ds_ok, "why": "" if real else why(r)}
    details.append(d)

if args.details:
    with open(args.details, "w") as f:
        f.write("".join(json.dumps(d) + "\n" for d in details))


def pct(n, d):
    return f"{100 * n / d:.0f}%" if d else "-"


print(f"run {args.run}: {len(items)} rows ({args.out})\n")
print("| rows | n | raw: real loads | after fixes | after repair | dagsmith agrees (raw / fixed / final) | false passes (raw / fixed / final) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for key in ["all"] + sorted(k for k in tab if k != "all"):
    t = tab[key]
    n = t["rows"]
    print(f"| {key} | {n} | {t['raw_real']} ({pct(t['raw_real'], n)}) | {t['fixed_real']} ({pct(t['fixed_real'], n)}) "
          f"| {t['final_real']} ({pct(t['final_real'], n)}) | {pct(t['raw_agree'], n)} / {pct(t['fixed_agree'], n)} / "
          f"{pct(t['final_agree'], n)} | {t['raw_false_pass']} / {t['fixed_false_pass']} / {t['final_false_pass']} |")
# Runaway first answers (stopped for repeating themselves) and what became of them.
runaway = [d for d in details if d["finish"] == "repetition"]
restarted = [d for d in runaway if d["restarted"]]
print(f"\nfirst answers stopped for repetition: {len(runaway)}; of those, real loads after fixes: "
      f"{sum(d['fixed']['real'] for d in runaway)}, final: {sum(d['final']['real'] for d in runaway)}; "
      f"restarted with a repetition penalty: {len(restarted)}, final loads among them: "
      f"{sum(d['final']['real'] for d in restarted)}")
for st in stages:
    print(f"\nwhy real Airflow refused ({st}):")
    for w, n in reasons[st].most_common(12):
        print(f"  {n:3d}  {w}")
print()
for d in details:
    print(f"{d['id']} v{d['version']} rounds={d['rounds']} finish={d['finish']} " + " | ".join(
        f"{st}: real={int(d[st]['real'])} ds={int(d[st]['dagsmith'])}" + (f" [{d[st]['why'][:110]}]" if d[st]['why'] else "")
        for st in stages))
if args.json:
    with open(args.json, "w") as f:
        json.dump({"run": args.run, "rows": len(items), "groups": {k: dict(v) for k, v in tab.items()},
                   "reasons": {st: reasons[st].most_common(20) for st in stages}}, f, indent=1)
