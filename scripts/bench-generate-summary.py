#!/usr/bin/env python3
"""Summarises a scripts/bench-generate.sh run directory as a markdown table: per parallel level,
the median over rounds of dagsmith's and the reference's figures and of their same-round ratios.

usage: scripts/bench-generate-summary.py OUT_DIR
"""
import glob
import json
import os
import re
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


out = sys.argv[1]
levels = sorted({int(re.search(r"dagsmith-(\d+)-r", p).group(1))
                 for p in glob.glob(os.path.join(out, "dagsmith-*-r*.json"))})
rounds = sorted({int(re.search(r"-r(\d+)\.json", p).group(1))
                 for p in glob.glob(os.path.join(out, "dagsmith-*-r*.json"))})
pp_ref = [load(p)["results"][0]["prompt_tokens_per_second"]
          for p in glob.glob(os.path.join(out, "reference-pp-r*.json"))]
print(f"rounds: {len(rounds)}; reference prompt test (one prompt, llama-bench pp): "
      f"{fmt(med(pp_ref))} tok/s")
# Where dagsmith ran: the GPUs llama.cpp reported and the layers put on them (none on a CPU).
first = sorted(glob.glob(os.path.join(out, "dagsmith-*-r*.json")))
if first:
    run = load(first[0])
    if run.get("gpu_devices"):
        print(f"dagsmith on {', '.join(run['gpu_devices'])}: {run.get('gpu_layers')} layers offloaded")
print()
print("| parallel | dagsmith gen tok/s | reference gen tok/s | gen ratio | dagsmith aggregate tok/s"
      " | reference aggregate tok/s | aggregate ratio | dagsmith prompt tok/s | reference prompt tok/s"
      " | prompt tokens decoded / reused | TTFT s | load (1 min) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
split = []
for p in levels:
    rows = []
    for r in rounds:
        d = os.path.join(out, f"dagsmith-{p}-r{r}.json")
        ref = os.path.join(out, f"reference-{p}-r{r}.json")
        if not (os.path.exists(d) and os.path.exists(ref)):
            continue
        d = load(d)["results"][0]
        ref = load(ref)["results"][0]
        load_txt = open(os.path.join(out, f"load-{p}-r{r}.txt")).read()
        load1 = float(re.search(r"load average: ([\d.]+)", load_txt).group(1))
        rows.append((d, ref, load1))
    if not rows:
        continue
    g = med([d["generation_tokens_per_second"] for d, _, _ in rows])
    rg = med([r["generation_tokens_per_second"] for _, r, _ in rows])
    gr = med([d["generation_tokens_per_second"] / r["generation_tokens_per_second"] for d, r, _ in rows])
    a = med([d["aggregate_tokens_per_second"] for d, _, _ in rows])
    ra = med([r["aggregate_tokens_per_second"] for _, r, _ in rows])
    ar = med([d["aggregate_tokens_per_second"] / r["aggregate_tokens_per_second"] for d, r, _ in rows])
    pt = med([d["prompt_tokens_per_second"] for d, _, _ in rows])
    rpt = med([r["prompt_tokens_per_second"] for _, r, _ in rows])
    decoded = rows[0][0]["prompt_tokens"]
    reused = rows[0][0].get("prompt_tokens_reused", 0)
    ttft = med([d.get("time_to_first_token_seconds") for d, _, _ in rows])
    loads = [l for _, _, l in rows]
    print(f"| {p} | {fmt(g)} | {fmt(rg)} | **{fmt(gr, 2)}×** | {fmt(a, 2)} | {fmt(ra, 2)} | "
          f"**{fmt(ar, 2)}×** | {fmt(pt)} | {fmt(rpt)} | {decoded} / {reused} | {fmt(ttft, 2)} | "
          f"{min(loads):.1f}–{max(loads):.1f} |")
    # Where dagsmith's generation time goes: llama.cpp's decode (until its results are ready)
    # and dagsmith's own work per step (sampling, text, stops); the reference's steps are decode
    # only. Per step (one token per sequence), in ms.
    dec = med([d.get("generation_decode_tokens_per_second") for d, _, _ in rows])
    if dec:
        step, dstep = p / g * 1000, p / dec * 1000
        split.append(f"| {p} | {fmt(dec)} | {fmt(rg)} | **{fmt(dec / rg, 2)}×** | "
                     f"{fmt(step, 2)} | {fmt(dstep, 2)} | {fmt(step - dstep, 2)} |")

if split:
    print()
    print("| parallel | dagsmith decode-only tok/s | reference gen tok/s | decode-only ratio"
          " | dagsmith ms/step | of which decode | of which dagsmith |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(split))
