#!/usr/bin/env python3
"""Turns proxy-bench.sh's JSON lines into the Markdown report: every figure also as a ratio to
direct and to HAProxy, then the capacity run, then the targets of issue 6 with met / missed."""
import json
import sys

raw, machine, settings = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(line) for line in open(raw) if line.strip()]
# Each target's best round (highest messages/s); every round's figure is listed under the table.
thr, rounds = {}, {}
for r in rows:
    if r["phase"] != "throughput":
        continue
    res = r.get("result") or {}
    rounds.setdefault(r["target"], []).append(res.get("messagesPerSecond"))
    best = thr.get(r["target"])
    if best is None or (res.get("messagesPerSecond") or 0) > (best.get("messagesPerSecond") or 0):
        thr[r["target"]] = res
cap = {r["target"]: r for r in rows if r["phase"] == "capacity"}
NAMES = {"direct": "direct (baseline)", "netty": "affinity-netty", "jetty": "affinity-jetty",
         "haproxy": "HAProxy", "nginx": "nginx"}


def ratio(a, b):
    return "–" if not a or not b else f"{a / b:.2f}×"


print(f"Machine: {machine}. Settings: {settings}.\n")
print("| target | handshakes/s | msgs/s | msgs/s ÷ direct | msgs/s ÷ HAProxy | handshake p50 / p99 ms"
      " | p99 ÷ HAProxy | round trip p50 / p99 ms | errors | connections per backend |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
d = thr.get("direct") or {}
h = thr.get("haproxy") or {}
for t, r in thr.items():
    if not r or "messagesPerSecond" not in r:
        print(f"| {NAMES.get(t, t)} | failed: {r} |||||||||")
        continue
    spread = ", ".join(f"{k} {v}" for k, v in r["perBackend"].items())
    print(f"| {NAMES.get(t, t)} | {r['handshakesPerSecond']:.0f} | {r['messagesPerSecond']:.0f}"
          f" | {ratio(r['messagesPerSecond'], d.get('messagesPerSecond'))}"
          f" | {ratio(r['messagesPerSecond'], h.get('messagesPerSecond'))}"
          f" | {r['handshakeP50Ms']:.2f} / {r['handshakeP99Ms']:.2f}"
          f" | {ratio(r['handshakeP99Ms'], h.get('handshakeP99Ms'))}"
          f" | {r['rttP50Ms']:.3f} / {r['rttP99Ms']:.3f} | {r['errors']} | {spread} |")

print("\nmsgs/s in each round (the table shows the best): " + "; ".join(
    f"{NAMES.get(t, t)} " + " / ".join("–" if v is None else f"{v:.0f}" for v in vs)
    for t, vs in rounds.items()))

if cap:
    print("\n| target (capacity) | connections | open after idle | RSS KiB/conn | heap KiB/conn"
          " | direct KiB/conn | heap + direct KiB/conn |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t, c in cap.items():
        n = c.get("connections", 0)
        res = c.get("result") or {}
        if "error" in c or not n:
            print(f"| {NAMES.get(t, t)} | failed: {c.get('error')} ||||||")
            continue
        per = lambda k: (c[k][1] - c[k][0]) / n
        jvm = c["heapKiB"][1] > 0
        print(f"| {NAMES.get(t, t)} | {n} | {res.get('stillOpenAfterIdle', '?')}"
              f" | {per('rssKiB'):.1f} | {per('heapKiB'):.1f}" if jvm else
              f"| {NAMES.get(t, t)} | {n} | {res.get('stillOpenAfterIdle', '?')} | {per('rssKiB'):.1f} | –",
              end="")
        print(f" | {per('directKiB'):.1f} | {per('heapKiB') + per('directKiB'):.1f} |" if jvm else " | – | – |")

print("\nTargets (issue 6):\n")
def check(name, ok, detail):
    print(f"- {name}: {'met' if ok else 'MISSED' if ok is False else 'not measured'} ({detail})")

n, j = thr.get("netty") or {}, thr.get("jetty") or {}
hm = h.get("messagesPerSecond")
if n.get("messagesPerSecond") and hm:
    check("affinity-netty msgs/s ≥ 1.0× HAProxy", n["messagesPerSecond"] >= hm,
          ratio(n["messagesPerSecond"], hm))
    check("affinity-netty handshake p99 ≤ HAProxy's", n["handshakeP99Ms"] <= h["handshakeP99Ms"],
          f"{n['handshakeP99Ms']:.2f} ms vs {h['handshakeP99Ms']:.2f} ms")
else:
    check("affinity-netty vs HAProxy", None, "no netty or HAProxy result")
if j.get("messagesPerSecond") and hm:
    check("affinity-jetty msgs/s ≥ 0.9× HAProxy", j["messagesPerSecond"] >= 0.9 * hm,
          ratio(j["messagesPerSecond"], hm))
else:
    check("affinity-jetty vs HAProxy", None, "no jetty or HAProxy result")
for t in ("netty", "jetty"):
    c = cap.get(t)
    if c and c.get("connections") and c["heapKiB"][1] > 0:
        k = (c["heapKiB"][1] - c["heapKiB"][0] + c["directKiB"][1] - c["directKiB"][0]) / c["connections"]
        open_ok = (c.get("result") or {}).get("stillOpenAfterIdle") == c["connections"]
        check(f"affinity-{t} ≤ 8 KiB per idle proxied connection (heap + direct)", k <= 8, f"{k:.1f} KiB")
        check(f"affinity-{t}: all {c['connections']} stay open", open_ok,
              f"{(c.get('result') or {}).get('stillOpenAfterIdle')} open after the idle period")
    else:
        check(f"affinity-{t} capacity", None, "no capacity result")
