#!/usr/bin/env python3
"""Choose the distributions the Airflow catalog is generated from, using only pip.

For each target Airflow version:
  * 2.x: apache-airflow==X
  * 3.x: apache-airflow-core==X plus the apache-airflow-task-sdk version that
    apache-airflow==X (the meta package) pins, plus apache-airflow==X itself (meta package,
    which holds no modules but is recorded for completeness).
  * every apache-airflow-providers-* distribution named in the Requires-Dist lines of the
    apache-airflow META packages of all targets (their extras list every provider), at its
    newest release whose `Requires-Dist: apache-airflow<spec>` admits X.

Metadata comes from `pip install --dry-run --no-deps --report` (PEP 658 metadata: no wheel is
downloaded), version lists from `pip index versions`.  Results are cached under CACHE/meta.
Writes the lock file given as argv[2]: one line per (target, distribution):
    TARGET NAME VERSION SHA256 WHEEL_FILENAME

Then a second, "release-time" snapshot per target, written as target `X~`: the same core
distributions, and for every provider the newest release that was on PyPI two days after
Airflow X itself was published (what Airflow's constraint files, and so most installations
of X, pin) and that admits X. The catalog uses it only to avoid calling something missing
that a recent provider release removed (see docs/CATALOG.md). Publication dates and the
date cut-off come from `uv` (PyPI package), the only client here that knows upload times.
`--snapshot-only` recomputes just that part from an existing lock.
"""
import concurrent.futures as cf
import json
import os
import re
import subprocess
import sys
import tempfile

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version

TARGETS = ["2.7.3", "2.9.3", "2.11.2", "3.0.6", "3.1.8"]
CACHE = sys.argv[1]
OUT = [a for a in sys.argv[2:] if not a.startswith("--")][0]
META = os.path.join(CACHE, "meta")
os.makedirs(META, exist_ok=True)
PIP = [sys.executable, "-m", "pip"]
PIP_ENV = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")


def meta_path(name, version):
    return os.path.join(META, f"{name}-{version}.json")


def fetch_meta(specs):
    """specs: list of (name, version), at most one version per name. Fills the cache."""
    todo = [(n, v) for n, v in specs if not os.path.exists(meta_path(n, v))]
    if not todo:
        return
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        report = tmp.name
    cmd = PIP + ["install", "--dry-run", "--no-deps", "--ignore-installed",
                 "--ignore-requires-python", "--only-binary=:all:", "--quiet",
                 "--report", report] + [f"{n}=={v}" for n, v in todo]
    res = subprocess.run(cmd, env=PIP_ENV, capture_output=True, text=True)
    if res.returncode != 0:
        if len(todo) == 1:
            # No wheel (or otherwise unusable): remember as unusable.
            json.dump({"unusable": res.stderr[-2000:]}, open(meta_path(*todo[0]), "w"))
            return
        mid = len(todo) // 2
        fetch_meta(todo[:mid])
        fetch_meta(todo[mid:])
        return
    for item in json.load(open(report))["install"]:
        m = item["metadata"]
        n = m["name"].lower().replace("_", "-")
        rec = {
            "name": n,
            "version": m["version"],
            "requires_dist": m.get("requires_dist", []),
            "url": item["download_info"]["url"],
            "sha256": item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256"),
        }
        json.dump(rec, open(meta_path(n, m["version"]), "w"))
    os.unlink(report)


def load_meta(name, version):
    fetch_meta([(name, version)])
    return json.load(open(meta_path(name, version)))


def index_versions(name):
    path = os.path.join(META, f"{name}.versions")
    if not os.path.exists(path):
        res = subprocess.run(PIP + ["index", "versions", name], env=PIP_ENV,
                             capture_output=True, text=True)
        m = re.search(r"Available versions: (.*)", res.stdout)
        vs = [v.strip() for v in m.group(1).split(",")] if m else []
        open(path, "w").write("\n".join(vs))
    vs = [v for v in open(path).read().split("\n") if v]
    out = []
    for v in vs:
        try:
            pv = Version(v)
        except Exception:
            continue
        if not pv.is_prerelease:
            out.append(v)
    return sorted(out, key=Version, reverse=True)


def airflow_spec(rec):
    """The specifier on apache-airflow (unconditional requirement), or None."""
    for line in rec.get("requires_dist", []):
        r = Requirement(line)
        if r.name.lower() == "apache-airflow" and (r.marker is None or "extra" not in str(r.marker)):
            return r.specifier
    return None


def admits(rec, target):
    if "unusable" in rec:
        return False
    spec = airflow_spec(rec)
    if spec is None:
        return True
    return spec.contains(target, prereleases=True)


def provider_names():
    names = set()
    for t in TARGETS:
        rec = load_meta("apache-airflow", t)
        for line in rec["requires_dist"]:
            r = Requirement(line)
            if r.name.startswith("apache-airflow-providers-"):
                names.add(r.name.lower())
    return sorted(names)


def publish_date(name, version):
    """Upload time of NAME==VERSION, from uv's exclude-newer diagnostics."""
    import datetime
    with tempfile.TemporaryDirectory() as d:
        req = os.path.join(d, "r.in")
        open(req, "w").write(f"{name}=={version}\n")
        res = subprocess.run(["uv", "pip", "compile", "--no-deps", "--python-version", "3.11",
                              "--exclude-newer", "2000-01-01T00:00:00Z", "-q", req],
                             capture_output=True, text=True)
    m = re.search(r"was published at (\S+?)Z?\.", res.stderr)
    if not m:
        raise SystemExit(f"no publication date for {name}=={version}: {res.stderr[-500:]}")
    return datetime.datetime.fromisoformat(m.group(1).rstrip("Z"))


def newest_before(name, cutoff):
    with tempfile.TemporaryDirectory() as d:
        req = os.path.join(d, "r.in")
        open(req, "w").write(name + "\n")
        res = subprocess.run(["uv", "pip", "compile", "--no-deps", "--python-version", "3.11",
                              "--exclude-newer", cutoff, "-q", "--no-header",
                              "--no-annotate", req], capture_output=True, text=True)
    m = re.search(rf"^{re.escape(name)}==(\S+)", res.stdout, re.M)
    return m.group(1) if m else None


def snapshot(lock_lines, providers):
    import datetime
    out = []
    for t in TARGETS:
        core = [l for l in lock_lines if l[0] == t and not l[1].startswith("apache-airflow-providers-")]
        date = publish_date(core[0][1], t)
        cutoff = (date + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{t}: published {date}, provider cut-off {cutoff}", file=sys.stderr)
        with cf.ThreadPoolExecutor(6) as ex:
            picks = list(ex.map(lambda p: newest_before(p, cutoff), providers))
        fetch_meta([(p, v) for p, v in zip(providers, picks) if v])
        for l in core:
            out.append((t + "~",) + tuple(l[1:]))
        for p, v in zip(providers, picks):
            if not v:
                continue
            rec = load_meta(p, v)
            if not admits(rec, t):
                continue
            out.append((t + "~", p, v, rec["sha256"], rec["url"].rsplit("/", 1)[1]))
    return out


def main():
    if "--snapshot-only" in sys.argv:
        lines = [tuple(l.split()) for l in open(OUT) if l.strip() and not l.startswith("#")]
        lines = [l for l in lines if not l[0].endswith("~")]
        providers = sorted({l[1] for l in lines if l[1].startswith("apache-airflow-providers-")})
        write_lock(lines + snapshot(lines, providers))
        return
    fetch_meta([("apache-airflow", t) for t in TARGETS[:1]])
    for t in TARGETS:
        fetch_meta([("apache-airflow", t)])
    providers = provider_names()
    print(f"{len(providers)} providers", file=sys.stderr)
    with cf.ThreadPoolExecutor(4) as ex:
        versions = dict(zip(providers, ex.map(index_versions, providers)))
    # Binary search, per (provider, target), for the newest admitting version; assumes the
    # minimum Airflow version a provider needs never decreases in newer releases (checked
    # afterwards: the chosen version must admit and its successor must not).
    state = {}  # (p, t) -> [lo, hi, first_probe_done]; answer index in [lo, hi], hi == len: none
    for p in providers:
        for t in TARGETS:
            state[(p, t)] = [0, len(versions[p]), False]
    chosen = {}
    rounds = 0
    while True:
        want = {}
        for key, st in state.items():
            p, t = key
            vs = versions[p]
            while st[0] < st[1]:
                probe = st[0] if not st[2] else (st[0] + st[1]) // 2
                if not os.path.exists(meta_path(p, vs[probe])):
                    want.setdefault(p, set()).add(vs[probe])
                    break
                st[2] = True
                if admits(load_meta(p, vs[probe]), t):
                    st[1] = probe
                else:
                    st[0] = probe + 1
            if st[0] >= st[1]:
                chosen[key] = vs[st[0]] if st[0] < len(vs) else None
        if not want:
            break
        rounds += 1
        layers = []
        for p, vset in want.items():
            for i, v in enumerate(sorted(vset)):
                while len(layers) <= i:
                    layers.append([])
                layers[i].append((p, v))
        chunks = [layer[i:i + 25] for layer in layers for i in range(0, len(layer), 25)]
        print(f"round {rounds}: {sum(len(c) for c in chunks)} metadata fetches", file=sys.stderr)
        with cf.ThreadPoolExecutor(4) as ex:
            list(ex.map(fetch_meta, chunks))
    lines = []
    for t in TARGETS:
        major = int(t.split(".")[0])
        if major == 2:
            core = [("apache-airflow", t)]
        else:
            meta = load_meta("apache-airflow", t)
            sdk = None
            for line in meta["requires_dist"]:
                r = Requirement(line)
                if r.name == "apache-airflow-task-sdk" and r.marker is None:
                    cands = [v for v in index_versions("apache-airflow-task-sdk") if r.specifier.contains(v)]
                    sdk = cands[0]
            core = [("apache-airflow-core", t), ("apache-airflow-task-sdk", sdk)]
        for n, v in core:
            rec = load_meta(n, v)
            lines.append((t, n, v, rec["sha256"], rec["url"].rsplit("/", 1)[1]))
        for p in providers:
            v = chosen.get((p, t))
            if v is None:
                continue
            rec = load_meta(p, v)
            # sanity check of the monotonicity assumption
            vs = versions[p]
            i = vs.index(v)
            if i > 0 and os.path.exists(meta_path(p, vs[i - 1])):
                assert not admits(load_meta(p, vs[i - 1]), t), (p, t, v)
            lines.append((t, p, v, rec["sha256"], rec["url"].rsplit("/", 1)[1]))
    write_lock(lines + snapshot(lines, providers))
    missing = [(p, t) for p in providers for t in TARGETS if chosen.get((p, t)) is None]
    print(f"{len(lines)} lines; no admitting release: {missing}", file=sys.stderr)


def write_lock(lines):
    with open(OUT, "w") as f:
        f.write("# target distribution version sha256 wheel  (written by crates/catalog-gen/pick_dists.py)\n")
        f.write("# targets ending in ~ are release-time provider snapshots (see docs/CATALOG.md)\n")
        for l in lines:
            f.write(" ".join(l) + "\n")


main()
