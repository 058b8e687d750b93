#!/usr/bin/env python3
"""Copies Airflow's own example DAGs into the repository and labels them with real Airflow.

usage: ORACLE=/var/tmp/dagsmith-oracle scripts/label-airflow-examples.py [--copy] [TIMEOUT_S]

The example DAGs of the apache-airflow 2.11.2 wheel (`airflow/example_dags/*.py`) and of the
apache-airflow-core 3.1.8 wheel (`airflow/example_dags/*.py` and `airflow/example_dags/standard/*.py`)
are test data of the corpus test (crates/core/tests/corpus.rs): each file is validated for both
Airflow versions, so many must fail (2.x examples in Airflow 3 and the other way round).

- `--copy` takes the files from the oracle's virtual environments (`$ORACLE/venv-af2`,
  `$ORACLE/venv-af3`, installed from those wheels; ../shared/oracle/setup.sh) into
  crates/core/tests/third_party/airflow_examples/<version>/, checking each against the wheel's RECORD hash.
- Then every file is imported by real Airflow 2.11.2 and 3.1.8 with the oracle's sandboxed DagBag
  worker (../shared/oracle/run_worker.sh: user nobody, no network, a time limit per file) — the
  files are imported only there, never by dagsmith — and the verdicts are written to
  crates/core/tests/third_party/airflow_examples/labels.jsonl in the format of ../shared/corpus/labels.jsonl
  (the fields the corpus test reads).

Needs root (run_worker.sh switches to user nobody in a fresh network namespace). Takes about two
minutes on two busy cores.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "crates", "core", "tests", "third_party", "airflow_examples")
ORACLE = os.environ.get("ORACLE", "/var/tmp/dagsmith-oracle")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
# (directory name, oracle venv, wheel's dist-info, sub-packages holding example DAG files)
SETS = [
    ("2.11.2", "af2", "apache_airflow-2.11.2.dist-info", ["example_dags"]),
    ("3.1.8", "af3", "apache_airflow_core-3.1.8.dist-info", ["example_dags", "example_dags/standard"]),
]
VERSIONS = {"af2": "2.11.2", "af3": "3.1.8"}


def site_packages(venv):
    lib = os.path.join(ORACLE, f"venv-{venv}", "lib")
    py = [d for d in os.listdir(lib) if d.startswith("python3")][0]
    return os.path.join(lib, py, "site-packages")


def record_hashes(sp, dist_info):
    hashes = {}
    for line in open(os.path.join(sp, dist_info, "RECORD")):
        parts = line.rstrip("\n").rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            hashes[parts[0]] = parts[1][len("sha256="):]
    return hashes


def copy_examples():
    for version, venv, dist_info, subdirs in SETS:
        sp = site_packages(venv)
        hashes = record_hashes(sp, dist_info)
        dest_root = os.path.join(EXAMPLES, version)
        shutil.rmtree(dest_root, ignore_errors=True)
        n = 0
        for sub in subdirs:
            src_dir = os.path.join(sp, "airflow", sub)
            for name in sorted(os.listdir(src_dir)):
                if not name.endswith(".py") or name == "__init__.py":
                    continue
                rel = f"airflow/{sub}/{name}"
                data = open(os.path.join(src_dir, name), "rb").read()
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                if hashes.get(rel) != digest:
                    sys.exit(f"{rel}: not the file of {dist_info} (RECORD hash differs)")
                dest = os.path.join(dest_root, sub, name)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                open(dest, "wb").write(data)
                n += 1
        print(f"{version}: copied {n} example DAG files from {dist_info}")


def example_files():
    out = []
    for version, _, _, _ in SETS:
        base = os.path.join(EXAMPLES, version)
        for d, _, files in os.walk(base):
            for f in sorted(files):
                if f.endswith(".py"):
                    out.append(os.path.relpath(os.path.join(d, f), EXAMPLES))
    return sorted(out)


def installed_top_level(venv):
    sp = site_packages(venv)
    return {n.split(".")[0].split("-")[0] for n in os.listdir(sp)}


def primary_failure(res):
    """(category, subcategory, message, line, env_limited) of Airflow's first failure."""
    if not res.get("result_ok"):
        return ("Timeout" if res.get("timed_out") else "WorkerCrash", "", "", None, False)
    if res.get("uncaught"):
        u = res["uncaught"]
        return (u["exc_class"], u["exc_class"], u.get("message", ""), u.get("sample_lineno"), False)
    records = res.get("exc_records") or []
    if res.get("import_errors"):
        rec = records[0] if records else {}
        exc = rec.get("exc_class") or "ImportError"
        msg = rec.get("message") or res["import_errors"][0]["message"].strip().splitlines()[-1]
        line = rec.get("sample_lineno")
        if line is None:
            m = re.search(r'line (\d+)', res["import_errors"][0]["message"])
            line = int(m.group(1)) if m and exc in ("SyntaxError", "IndentationError") else None
        return (exc, exc, msg, line, False)
    if res.get("serialization_errors"):
        s = res["serialization_errors"][0]
        return ("SerializationError", s.get("exc_class", ""), s.get("message", ""), s.get("sample_lineno"), False)
    if not res.get("dags"):
        return ("NoDag", "no DAG found", "", None, False)
    return None


def env_limited(failure, res, venv, top_level):
    """A failure only because something is not installed in the oracle's environment: a package,
    or a plugin that registers a timetable or priority weight strategy (the example plugins of
    `airflow/example_dags/plugins` are not in the oracle's plugins folder)."""
    if failure is None:
        return False
    if "is not registered" in failure[2] or failure[2].startswith("Unknown priority strategy"):
        return True
    if failure[0] != "ModuleNotFoundError":
        return False
    m = re.search(r"No module named '([^']+)'", failure[2])
    if not m:
        return False
    module = m.group(1)
    if module.startswith("airflow.providers."):
        provider = module.split(".")[2]
        sp = site_packages(venv)
        return not os.path.isdir(os.path.join(sp, "airflow", "providers", provider))
    return not module.startswith("airflow") and module.split(".")[0] not in top_level


def main():
    args = [a for a in sys.argv[1:] if a != "--copy"]
    timeout = args[0] if args else "60"
    if "--copy" in sys.argv:
        copy_examples()
    files = example_files()
    jobs_dir = os.path.join(ORACLE, "examples")
    os.makedirs(jobs_dir, exist_ok=True)
    # The worker copies each file into its sandbox under its own name (`__file__` matters).
    staged = os.path.join(jobs_dir, "files")
    shutil.rmtree(staged, ignore_errors=True)
    jobs = []
    for rel in files:
        dest = os.path.join(staged, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(EXAMPLES, rel), dest)
        jobs.append({"id": rel[:-3], "file": rel, "abs": dest})
    subprocess.run(["chmod", "-R", "a+rX", staged], check=True)
    jobs_file = os.path.join(jobs_dir, "jobs.jsonl")
    with open(jobs_file, "w") as f:
        f.write("".join(json.dumps(j) + "\n" for j in jobs))
    worker = os.path.join(SHARED, "oracle", "run_worker.sh")
    results = {}
    for venv in ("af2", "af3"):
        out_name = f"examples-{venv}.jsonl"
        out_path = os.path.join(ORACLE, "results", out_name)
        if os.path.exists(out_path):
            os.remove(out_path)
        env = dict(os.environ, ORACLE=ORACLE)
        subprocess.run(["bash", worker, venv, jobs_file, out_name, timeout], check=True, env=env)
        results[venv] = {json.loads(l)["id"]: json.loads(l) for l in open(out_path) if l.strip()}
    rows = []
    for venv in ("af2", "af3"):
        top_level = installed_top_level(venv)
        for job in jobs:
            res = results[venv].get(job["id"])
            if res is None:
                sys.exit(f"no result for {job['id']} in {venv}")
            failure = primary_failure(res)
            limited = env_limited(failure, res, venv, top_level)
            row = {
                "id": "airflow_examples/" + job["id"],
                "source": "airflow_examples_" + job["file"].split("/")[0],
                "kind": "airflow_example",
                "file": job["file"],
                "airflow_version": VERSIONS[venv],
                "airflow_loads_ok": failure is None,
                "failure_env_limited": limited,
                "airflow_verdict": "loads" if failure is None else failure[0],
                "primary_failure": None if failure is None else {
                    "category": failure[0],
                    "subcategory": failure[1],
                    "message": failure[2][:500],
                    "sample_lineno": failure[3],
                },
                "dags": [
                    {"dag_id": d["dag_id"], "task_ids": d["task_ids"], "edges": d["edges"]}
                    for d in res.get("dags") or []
                ],
            }
            rows.append(row)
    with open(os.path.join(EXAMPLES, "labels.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    for venv in ("af2", "af3"):
        v = VERSIONS[venv]
        mine = [r for r in rows if r["airflow_version"] == v]
        print(f"Airflow {v}: {sum(r['airflow_loads_ok'] for r in mine)} of {len(mine)} load, "
              f"{sum(r['failure_env_limited'] for r in mine)} env-limited")


if __name__ == "__main__":
    main()
