#!/usr/bin/env python3
"""Time airflow-net's DAG validator the way `dagsmith bench validate` times dagsmith.

    scripts/bench-airflow-net.py VALIDATION_PY [PATH ...] [--repeat N] [--warmup N] [--json]

VALIDATION_PY is airflow-net's `src/airflow_net/validation.py` (github.com/andrea-t94/airflow-net).
It is third-party code and is NOT in this repository: fetch it yourself and keep it outside the
clone (docs/BENCHMARKS.md says where the benchmark copy came from). It imports only the standard
library, so no Airflow and no airflow-net install is needed; this script loads that one file.

PATHs are .py files or directories (walked recursively for *.py, skipping __pycache__,
node_modules and target, as dagsmith does) or glob patterns [default: ../shared/corpus].
Only .py files are read: give dagsmith the same .py files (not the corpus's .jsonl datasets).

All files are read and decoded before the clock starts (UTF-8, BOM dropped, else the PEP 263
coding line, as Python itself does). Then, on this one thread, `DAGValidator().validate_content(
source, path)` -- the entry point airflow-net's own agent calls on generated code -- runs over every
file: --warmup untimed passes, then --repeat timed passes. Each call is timed on its own
(perf_counter_ns around it); files/s and MB/s (10^6 bytes of UTF-8 source) come from the wall time
of the timed passes. Output fields and percentiles (nearest rank) match `dagsmith bench validate`.

--parse-only times `ast.parse(source)` alone instead: airflow-net's floor, as dagsmith-core's
`parse_speed` example is dagsmith's. --slowest K adds the K files with the highest median time.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import io
import json
import math
import platform
import statistics
import sys
import time
import tokenize
from pathlib import Path

SKIPPED_DIRS = {"__pycache__", "node_modules", "target"}
DEFAULT_CORPUS = "../shared/corpus"


def walk(path: Path, out: list[Path]) -> None:
    if path.is_dir():
        for child in sorted(path.iterdir(), key=lambda p: p.name):
            if child.is_dir():
                if child.name not in SKIPPED_DIRS and not child.is_symlink():
                    walk(child, out)
            elif child.suffix == ".py" and child.is_file():
                out.append(child)
    elif path.is_file():
        out.append(path)


def collect(specs: list[str]) -> list[Path]:
    files: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.exists():
            walk(p, files)
            continue
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            sys.exit(f"error: {spec}: no such file, directory or glob match")
        for m in matches:
            walk(Path(m), files)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def decode(raw: bytes) -> str:
    """Decode source bytes as the Python interpreter would."""
    try:
        text = raw.decode("utf-8")
        return text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(encoding)


def load_validator(path: Path):
    spec = importlib.util.spec_from_file_location("airflow_net_validation", path)
    if spec is None or spec.loader is None:
        sys.exit(f"error: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "DAGValidator"):
        sys.exit(f"error: {path} defines no DAGValidator; is it airflow-net's validation.py?")
    if any(name == "airflow" or name.startswith("airflow.") for name in sys.modules):
        sys.exit("error: loading the validator imported Airflow; the benchmark must not")
    return module


def percentile(sorted_ns: list[int], p: float) -> int:
    """Nearest rank, as dagsmith bench validate."""
    if not sorted_ns:
        return 0
    rank = math.ceil(p / 100.0 * len(sorted_ns))
    return sorted_ns[min(max(rank, 1), len(sorted_ns)) - 1]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument("validator", type=Path, help="airflow-net's validation.py")
    ap.add_argument("paths", nargs="*", help=f"files, directories or globs [default: {DEFAULT_CORPUS}]")
    ap.add_argument("--repeat", type=int, default=3, metavar="N", help="timed passes [default: 3]")
    ap.add_argument("--warmup", type=int, default=1, metavar="N", help="untimed passes [default: 1]")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--parse-only", action="store_true", help="time ast.parse() alone (the floor)")
    ap.add_argument("--slowest", type=int, default=0, metavar="K", help="list the K slowest files")
    args = ap.parse_intermixed_args()
    if args.repeat < 1 or args.warmup < 0:
        ap.error("--repeat must be >= 1 and --warmup >= 0")

    module = load_validator(args.validator)
    validator_sha = hashlib.sha256(args.validator.read_bytes()).hexdigest()
    paths = args.paths or [DEFAULT_CORPUS]
    files = collect(paths)
    if not files:
        sys.exit("error: nothing to benchmark: no .py files found")
    jobs: list[tuple[str, str]] = []
    for f in files:
        try:
            jobs.append((str(f), decode(f.read_bytes())))
        except (OSError, UnicodeDecodeError, SyntaxError) as e:
            sys.exit(f"error: cannot read {f}: {e}")
    total_bytes = sum(len(src.encode("utf-8")) for _, src in jobs)

    if args.parse_only:
        import ast

        def call(src: str, name: str):
            # validate_content catches every exception of ast.parse; so does the floor.
            try:
                return ast.parse(src, filename=name)
            except Exception as e:  # noqa: BLE001
                return e
    else:
        # One validator object for the whole run, as airflow-net's AirflowAgent keeps one.
        validator = module.DAGValidator()
        call_validate = validator.validate_content

        def call(src: str, name: str):
            return call_validate(src, name)

    perf = time.perf_counter_ns
    for _ in range(args.warmup):
        for name, src in jobs:
            call(src, name)

    per_file: list[int] = []
    by_file: list[list[int]] = [[] for _ in jobs]
    findings = 0
    clean = 0
    wall_ns = 0
    for pass_no in range(args.repeat):
        start = perf()
        for i, (name, src) in enumerate(jobs):
            t0 = perf()
            result = call(src, name)
            t1 = perf()
            d = t1 - t0
            per_file.append(d)
            by_file[i].append(d)
            if pass_no == 0 and not args.parse_only:
                findings += len(result)
                clean += not result
        wall_ns += perf() - start
    per_file.sort()

    wall = wall_ns / 1e9
    calls = len(jobs) * args.repeat
    us = lambda ns: round(ns / 1e3, 2)  # noqa: E731
    result = {
        "tool": "airflow-net DAGValidator.validate_content" if not args.parse_only else "ast.parse",
        "validator": str(args.validator),
        "validator_sha256": validator_sha,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "paths": paths,
        "files": len(jobs),
        "bytes": total_bytes,
        "repeats": args.repeat,
        "warmup": args.warmup,
        "threads": 1,
        "total_seconds": wall,
        "files_per_second": calls / wall if wall else float("inf"),
        "mb_per_second": total_bytes * args.repeat / 1e6 / wall if wall else float("inf"),
        "mean_us": us(sum(per_file) / len(per_file)),
        "p50_us": us(percentile(per_file, 50)),
        "p90_us": us(percentile(per_file, 90)),
        "p99_us": us(percentile(per_file, 99)),
        "max_us": us(per_file[-1]),
    }
    if not args.parse_only:
        # airflow-net has no "loads" verdict; "clean" = files it reports no error for.
        result["findings"] = findings
        result["clean"] = clean
    if args.slowest:
        medians = sorted(
            ((statistics.median(ts), name) for ts, (name, _) in zip(by_file, jobs)), reverse=True
        )
        result["slowest"] = [{"file": n, "median_us": us(m)} for m, n in medians[: args.slowest]]

    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    what = "ast.parse only" if args.parse_only else "airflow-net validate_content"
    print(
        f"{what}: {len(jobs)} inputs, {total_bytes / 1e6:.2f} MB from {', '.join(paths)}\n"
        f"{result['python']}, {args.repeat} timed pass{'' if args.repeat == 1 else 'es'} "
        f"after {args.warmup} warm-up, 1 thread\n"
    )
    print(f"  files/s      {result['files_per_second']:>12.1f}")
    print(f"  MB/s         {result['mb_per_second']:>12.2f}")
    for key, label in (("mean_us", "mean"), ("p50_us", "p50"), ("p99_us", "p99"), ("max_us", "max")):
        suffix = "  per file" if key == "mean_us" else ""
        print(f"  {label:<12} {result[key]:>9.1f} µs{suffix}")
    print(f"  total        {wall:>12.3f} s  ({'ast.parse' if args.parse_only else 'validate_content'}() only)")
    if not args.parse_only:
        print(f"  findings     {findings:>12}  per pass; {clean} of {len(jobs)} with no error")
    for row in result.get("slowest", []):
        print(f"  slow         {row['median_us']:>9.1f} µs  {row['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
