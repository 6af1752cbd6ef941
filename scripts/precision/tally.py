#!/usr/bin/env python3
"""Per-rule precision of meshlint on the public corpus.

Reads the JSON reports written by run.sh and verdicts.tsv, prints a markdown table.
Usage: tally.py [OUT_DIR] [--list-unclassified]
"""
import csv, json, os, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
out = next((a for a in sys.argv[1:] if not a.startswith("--")), "/work/corpus/out")

def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))

verdicts = {}
for v in rows(os.path.join(HERE, "verdicts.tsv")):
    key = (v["repo"], v["folder"], v["world"], v["rule"], v["file"], v["line"])
    verdicts[key] = v["verdict"]

count, tp, fp, unc = Counter(), Counter(), Counter(), Counter()
missing = []
for s in rows(os.path.join(HERE, "sources.tsv")):
    name = f"{s['repo'].replace('/', '+')}__{s['folder'].replace('/', '_')}__{s['world']}.json"
    try:
        findings = json.load(open(os.path.join(out, name)))["findings"]
    except (OSError, ValueError):
        print(f"no report: {name}", file=sys.stderr)
        continue
    for f in findings:
        if f["severity"] not in ("warning", "error"):
            continue
        r = f["rule"]
        key = (s["repo"], s["folder"], s["world"], r, f["location"]["file"], str(f["location"]["line"]))
        count[r] += 1
        v = verdicts.get(key)
        if v == "TP": tp[r] += 1
        elif v == "FP": fp[r] += 1
        else:
            unc[r] += 1
            missing.append("\t".join(key) + "\t" + f["message"][:200].replace("\n", " "))

def prec(t, f):
    return f"{100 * t / (t + f):.0f}%" if t + f else "-"

print("| rule | findings | TP | FP | unclassified | precision |")
print("|---|---:|---:|---:|---:|---:|")
for r in sorted(count):
    print(f"| {r} | {count[r]} | {tp[r]} | {fp[r]} | {unc[r]} | {prec(tp[r], fp[r])} |")
T, F = sum(tp.values()), sum(fp.values())
print(f"| **all** | {sum(count.values())} | {T} | {F} | {sum(unc.values())} | {prec(T, F)} |")
if "--list-unclassified" in sys.argv:
    print("\n".join(missing), file=sys.stderr)
