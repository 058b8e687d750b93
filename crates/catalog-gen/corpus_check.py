#!/usr/bin/env python3
"""Compares the catalog's import verdicts with real Airflow's, on /work/shared/corpus/labels.jsonl.

usage: corpus_check.py QUERY_CMD [LABELS]   (QUERY_CMD: e.g. "dagsmith-catalog-gen query")

For each labelled (file, Airflow version): the module-level `import airflow...` / `from airflow...
import ...` statements are sent to the catalog. Real Airflow executed every module-level import
before the line of the file's first error (all of them when the file had none): each of those that
the catalog calls missing is a FALSE MISSING. When Airflow's first error is an ImportError /
ModuleNotFoundError of an airflow module at an import line (and not marked env-limited), the
catalog should call that import missing: RECALL.
"""
import ast
import json
import re
import shlex
import subprocess
import sys
from collections import Counter

QUERY = shlex.split(sys.argv[1])
LABELS = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/corpus/labels.jsonl"
ROOT = LABELS.rsplit("/corpus/", 1)[0]

rows = [json.loads(l) for l in open(LABELS)]
queries = []  # (qid, row index, lineno, module, name)
row_imports = {}
for ri, r in enumerate(rows):
    try:
        src = open(f"{ROOT}/{r['file']}").read()
        tree = ast.parse(src)
    except Exception:
        continue
    imps = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "airflow" or a.name.startswith("airflow."):
                    imps.append((node.lineno, a.name, ""))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            m = node.module
            if m == "airflow" or m.startswith("airflow."):
                for a in node.names:
                    if a.name != "*":
                        imps.append((node.lineno, m, a.name))
    row_imports[ri] = imps
    for (ln, m, n) in imps:
        qid = len(queries)
        queries.append((qid, ri, ln, m, n))

inp = "".join(f"{q[0]}\t{rows[q[1]]['airflow_version']}\t{q[3]}\t{q[4]}\n" for q in queries)
res = subprocess.run(QUERY, input=inp, capture_output=True, text=True, check=True)
verdict = {}
for line in res.stdout.splitlines():
    qid, v = line.split("\t")
    verdict[int(qid)] = v

by_row = {}
for q in queries:
    by_row.setdefault(q[1], []).append(q)

false_missing = []
worked = Counter()
recall = Counter()
missed = []
for ri, r in enumerate(rows):
    qs = by_row.get(ri, [])
    errs = r["import_errors"]
    if not r.get("python_compile_ok", True):
        continue
    first = errs[0] if errs else None
    fail_line = first.get("sample_lineno") if first else None
    if first and fail_line is None:
        continue
    for q in qs:
        if fail_line is None or q[2] < fail_line:
            worked[r["airflow_version"]] += 1
            if verdict.get(q[0]) in ("no-module", "no-name"):
                false_missing.append((r["id"], r["airflow_version"], q[3], q[4], verdict[q[0]]))
    if not first or first["exc_class"] not in ("ImportError", "ModuleNotFoundError") or first.get("env_limited"):
        continue
    msg = first["message"]
    m1 = re.match(r"No module named '([^']+)'", msg)
    m2 = re.match(r"cannot import name '([^']+)' from '([^']+)'", msg)
    target = (m1 and m1.group(1)) or (m2 and m2.group(2)) or ""
    if not (target == "airflow" or target.startswith("airflow.")):
        continue
    at_line = [q for q in qs if q[2] == fail_line]
    if not at_line:
        recall[(r["airflow_version"], "not-a-module-level-import")] += 1
        continue
    flagged = [q for q in at_line if verdict.get(q[0]) in ("no-module", "no-name")]
    kind = "predicted" if flagged else "missed"
    recall[(r["airflow_version"], kind)] += 1
    if not flagged:
        missed.append((r["id"], r["airflow_version"], msg[:140], [(q[3], q[4], verdict.get(q[0])) for q in at_line]))

print(f"queries: {len(queries)} module-level airflow imports in {len(row_imports)} parsed rows")
older = sum(1 for q in queries if verdict.get(q[0]) == "older-provider")
print(f"imports that really worked: {dict(worked)}; catalog called missing: {len(false_missing)}")
print(f"(verdicts 'only in an older provider release', not counted as missing: {older})")
for fm in false_missing:
    print("  FALSE MISSING", *fm)
print("real airflow import errors (first error of a file, not env-limited):")
for k, v in sorted(recall.items()):
    print(f"  {k}: {v}")
for m in missed:
    print("  MISSED", *m)
