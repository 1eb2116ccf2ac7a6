#!/usr/bin/env python3
"""Turns JMH JSON (one or more files, later files win) into the Markdown tables of
docs/benchmarks.md: ns/op (the fastest measurement iteration; --mean for JMH's mean) with bytes/op,
and every figure as a ratio to a baseline from the same run.
Usage: python3 affinity-jmh/bench/report.py [--mean] affinity-jmh/results/jmh-*.json"""
import json
import sys

MEAN = "--mean" in sys.argv
results = {}
for path in [a for a in sys.argv[1:] if not a.startswith("--")]:
    for r in json.load(open(path)):
        bench = r["benchmark"].rsplit(".", 2)
        key = (bench[-2], bench[-1], tuple(sorted((r.get("params") or {}).items())))
        sec = r.get("secondaryMetrics", {})
        alloc = (sec.get("gc.alloc.rate.norm") or sec.get("·gc.alloc.rate.norm") or {}).get("score")
        its = sorted(x for fork in r["primaryMetric"]["rawData"] for x in fork)
        # The machine is shared: interference only ever adds time, so the fastest iteration is the
        # best estimate of the code's own cost. The mean is kept for the record (--mean).
        score = r["primaryMetric"]["score"] if MEAN else its[0]
        results[key] = (score, its[len(its) // 2], alloc)


def get(cls, method, **params):
    return results.get((cls, method, tuple(sorted((k, str(v)) for k, v in params.items()))))


def cell(v, base=None, alloc=True):
    if v is None:
        return "–"
    s = f"{v[0]:.1f}"
    if base:
        s += f" ({v[0] / base[0]:.2f}×)"
    if alloc and v[2] is not None:
        s += f", {v[2]:.0f} B"
    return s


NS = ["3", "16", "100", "1000"]
print("### Router.select (ns/op, ratio to source-IP HRW at the same n, bytes/op)\n")
for fam in ("ipv4", "ipv6"):
    print(f"\n{fam.upper()} clients:\n")
    print("| strategy | " + " | ".join(f"n={n}" for n in NS) + " |")
    print("|---|" + "---:|" * len(NS))
    for s in ["source-ip", "header", "weighted", "bounded-load", "maglev", "round-robin",
              "least-connections", "p2c"]:
        row = [cell(get("RouterBenchmark", "select", backends=n, keys=fam, strategy=s),
                    None if s == "source-ip" else get("RouterBenchmark", "select", backends=n,
                                                      keys=fam, strategy="source-ip"))
               for n in NS]
        print(f"| {s} | " + " | ".join(row) + " |")

print("\n### Peers on the same keys (ns/op; in brackets: ketama TreeMap time ÷ this time, i.e."
      " throughput as a multiple of ketama's)\n")
for fam in ("ipv4", "ipv6"):
    print(f"\n{fam.upper()} keys:\n")
    print("| implementation | " + " | ".join(f"n={n}" for n in NS) + " |")
    print("|---|" + "---:|" * len(NS))
    for impl in ["affinity-hrw", "affinity-maglev", "guava-jump", "hash4j-jumpback",
                 "ketama-treemap", "ketama-array"]:
        row = []
        for n in NS:
            v = get("PeerBenchmark", "owner", backends=n, impl=impl, keys=fam)
            k = get("PeerBenchmark", "owner", backends=n, impl="ketama-treemap", keys=fam)
            row.append("–" if v is None else f"{v[0]:.1f} ({k[0] / v[0]:.2f}×)" if k else f"{v[0]:.1f}")
        print(f"| {impl} | " + " | ".join(row) + " |")

print("\n### Key hash alone (ns/op, ratio to the core's pinned path)\n")
print("| function | ipv4 | ipv6 | text |")
print("|---|---:|---:|---:|")
for m in ["corePinned", "guavaMurmur3_32", "hash4jMurmur3_32", "guavaMurmur3_128",
          "hash4jKomihash5", "hash4jXxh3"]:
    row = [cell(get("KeyHashBenchmark", m, input=i),
                None if m == "corePinned" else get("KeyHashBenchmark", "corePinned", input=i))
           for i in ("ipv4", "ipv6", "text")]
    print(f"| {m} | " + " | ".join(row) + " |")

if any(k[0] == "CookieBenchmark" for k in results):
    print("\n### Cookie affinity, Router.select (ns/op, ratio to source-IP HRW IPv4 at the same n)\n")
    print("| visit | " + " | ".join(f"n={n}" for n in NS) + " |")
    print("|---|" + "---:|" * len(NS))
    for v in ("valid", "first"):
        row = [cell(get("CookieBenchmark", "select", backends=n, visit=v),
                    get("RouterBenchmark", "select", backends=n, keys="ipv4", strategy="source-ip"))
               for n in NS]
        print(f"| {v} | " + " | ".join(row) + " |")

if any(k[0] == "JwtBenchmark" for k in results):
    print("\n### JWT affinity, Router.select at n=16 (ns/op, ratio to source-IP HRW IPv4 n=16)\n")
    base = get("RouterBenchmark", "select", backends="16", keys="ipv4", strategy="source-ip")
    print("| algorithm | fresh token | repeated token |")
    print("|---|---:|---:|")
    for alg in ("HS256", "RS256", "ES256"):
        row = [cell(get("JwtBenchmark", "select", algorithm=alg, token=t), base)
               for t in ("fresh", "repeated")]
        print(f"| {alg} | " + " | ".join(row) + " |")
