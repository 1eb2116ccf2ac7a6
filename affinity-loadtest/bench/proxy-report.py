#!/usr/bin/env python3
"""Turns proxy-bench.sh's JSON lines into the Markdown report.

Per workload: each target's median over the rounds, and each ratio computed round by round (a
target against HAProxy, and against the faster of HAProxy and nginx, in the same round) with its
median and spread (min-max). Then the capacity run and the done-when targets, met or missed.
The raw lines follow the tables."""
import json
import statistics
import sys

raw, machine, settings = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [line.rstrip("\n") for line in open(raw) if line.strip()]
rows = [json.loads(line) for line in lines]
NAMES = {"direct": "direct to ws-1", "netty": "affinity-netty", "jetty": "affinity-jetty",
         "haproxy": "HAProxy", "nginx": "nginx", "netty-alt": "affinity-netty (ALT_JAR)",
         "jetty-alt": "affinity-jetty (ALT_JAR)"}
ORDER = ["direct", "netty", "netty-alt", "jetty", "jetty-alt", "haproxy", "nginx"]


def name(t):
    return NAMES.get(t, t)


def by_round(phase):
    """{target: {round: result}} for the rounds that produced a result."""
    out = {}
    for r in rows:
        if r.get("phase") == phase and isinstance(r.get("result"), dict) and "error" not in r["result"]:
            out.setdefault(r["target"], {})[r["round"]] = r["result"]
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratios(data, target, peer, key):
    """Round-by-round ratio target/peer for `key`, on the rounds both ran."""
    t, p = data.get(target, {}), data.get(peer, {})
    return [t[r][key] / p[r][key] for r in sorted(t) if r in p and p[r].get(key)]


def fmt_ratio(rs):
    if not rs:
        return "–"
    return f"{med(rs):.2f}× [{min(rs):.2f}–{max(rs):.2f}]"


def fastest_peer(data, key):
    peers = [(med([v[key] for v in data[p].values()]), p) for p in ("haproxy", "nginx") if p in data]
    return max(peers)[1] if peers else None


def peer_ratios(data, target, key):
    """Ratio against the faster peer of each round (the higher `key`)."""
    out = []
    t = data.get(target, {})
    for r in sorted(t):
        peers = [data[p][r][key] for p in ("haproxy", "nginx") if r in data.get(p, {})]
        if peers and max(peers):
            out.append(t[r][key] / max(peers))
    return out


def peer_p99_ratios(data, target, peer):
    return ratios(data, target, peer, "handshakeP99Ms")


print(f"Machine: {machine}. Settings: {settings}.\n")
start = [r for r in rows if r.get("phase") == "start"]
if start:
    print(f"At the start: `{start[0]['uptime'].strip()}`\n")

echo = by_round("echo")
checks = []
if echo:
    fast = fastest_peer(echo, "messagesPerSecond")
    print(f"### Many small echoes\n\nMedians of {max(len(v) for v in echo.values())} rounds; "
          f"ratios are per round, median [min–max]. Fastest peer by median msgs/s: {name(fast)}.\n")
    print("| target | msgs/s | ÷ HAProxy | ÷ faster peer (per round) | handshakes/s | handshake p50 / p99 ms"
          " | p99 ÷ HAProxy | p99 ÷ " + (name(fast) if fast else "peer") + " | round trip p50 / p99 ms | errors | generator CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in [t for t in ORDER if t in echo] + [t for t in echo if t not in ORDER]:
        rs = list(echo[t].values())
        m = lambda k: med([r.get(k) for r in rs])
        print(f"| {name(t)} | {m('messagesPerSecond'):.0f}"
              f" | {fmt_ratio(ratios(echo, t, 'haproxy', 'messagesPerSecond'))}"
              f" | {fmt_ratio(peer_ratios(echo, t, 'messagesPerSecond'))}"
              f" | {m('handshakesPerSecond'):.0f} | {m('handshakeP50Ms'):.1f} / {m('handshakeP99Ms'):.1f}"
              f" | {fmt_ratio(peer_p99_ratios(echo, t, 'haproxy'))}"
              f" | {fmt_ratio(peer_p99_ratios(echo, t, fast) if fast else [])}"
              f" | {m('rttP50Ms'):.2f} / {m('rttP99Ms'):.2f} | {sum(r['errors'] for r in rs)}"
              f" | {m('cpuSeconds') or 0:.1f} |")
    print("\nmsgs/s by round: " + "; ".join(
        f"{name(t)} " + " / ".join(f"{echo[t][r]['messagesPerSecond']:.0f}" for r in sorted(echo[t]))
        for t in echo))
    print("\nconnections per backend (round 1): " + "; ".join(
        f"{name(t)} " + ", ".join(f"{k} {v}" for k, v in echo[t][min(echo[t])]["perBackend"].items())
        for t in echo))

    def mr(t, peer, key):
        rs = ratios(echo, t, peer, key) if peer else []
        return med(rs)

    if "netty" in echo and fast:
        r = mr("netty", fast, "messagesPerSecond")
        checks.append((f"affinity-netty msgs/s ≥ 1.0× the fastest peer ({name(fast)})", r and r >= 1.0,
                       f"{r:.2f}× median" if r else "–"))
        r = mr("netty", fast, "handshakeP99Ms")
        checks.append((f"affinity-netty handshake p99 ≤ {name(fast)}'s", r and r <= 1.0,
                       f"{r:.2f}× median" if r else "–"))
    if "jetty" in echo and "haproxy" in echo:
        r = mr("jetty", "haproxy", "messagesPerSecond")
        checks.append(("affinity-jetty msgs/s ≥ 1.0× HAProxy", r and r >= 1.0, f"{r:.2f}× median" if r else "–"))
        r = mr("jetty", "haproxy", "handshakeP99Ms")
        checks.append(("affinity-jetty handshake p99 ≤ 1.1× HAProxy's", r and r <= 1.1,
                       f"{r:.2f}× median" if r else "–"))
    if "direct" in echo and "haproxy" in echo:
        r = mr("direct", "haproxy", "messagesPerSecond")
        checks.append(("load generator outruns HAProxy (direct ÷ HAProxy > 1)", r and r > 1.0,
                       f"{r:.2f}× median" if r else "–"))

stream = by_round("stream")
if stream:
    print(f"\n### Streaming 16 KiB messages\n\nMB/s = echoed payload, one direction, 10^6 bytes/s; "
          f"medians of {max(len(v) for v in stream.values())} rounds.\n")
    print("| target | MB/s | ÷ HAProxy | ÷ faster peer (per round) | msgs/s | errors | generator CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in [t for t in ORDER if t in stream] + [t for t in stream if t not in ORDER]:
        rs = list(stream[t].values())
        m = lambda k: med([r.get(k) for r in rs])
        print(f"| {name(t)} | {m('megabytesPerSecond'):.1f}"
              f" | {fmt_ratio(ratios(stream, t, 'haproxy', 'megabytesPerSecond'))}"
              f" | {fmt_ratio(peer_ratios(stream, t, 'megabytesPerSecond'))}"
              f" | {m('messagesPerSecond'):.0f} | {sum(r['errors'] for r in rs)} | {m('cpuSeconds') or 0:.1f} |")
    print("\nMB/s by round: " + "; ".join(
        f"{name(t)} " + " / ".join(f"{stream[t][r]['megabytesPerSecond']:.1f}" for r in sorted(stream[t]))
        for t in stream))
    for t in ("netty", "jetty"):
        if t in stream and "haproxy" in stream:
            r = med(ratios(stream, t, "haproxy", "megabytesPerSecond"))
            checks.append((f"affinity-{t} streaming MB/s ≥ 1.0× HAProxy", r and r >= 1.0,
                           f"{r:.2f}× median" if r else "–"))

cap = [r for r in rows if r.get("phase") == "capacity"]
if cap:
    print("\n### Capacity: idle connections held\n")
    print("| target | connections | open after the hold | RSS KiB/conn (all open) | RSS KiB/conn (end of hold)"
          " | heap KiB/conn | direct KiB/conn | threads: before → all open → end |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for c in cap:
        t, n = c["target"], c.get("connections", 0)
        if "error" in c or not n:
            print(f"| {name(t)} | failed: {c.get('error')} |||||||")
            continue
        rss = c["rssKiB"]
        jvm = c["heapKiB"][1] > 0
        per = lambda a, b: (b - a) / n
        thr = c.get("threads", [0, 0, 0])
        res = c.get("result") or {}
        print(f"| {name(t)} | {n} | {res.get('stillOpenAfterIdle', '?')} | {per(rss[0], rss[1]):.1f}"
              f" | {per(rss[0], rss[-1]):.1f}"
              + (f" | {per(*c['heapKiB']):.1f} | {per(*c['directKiB']):.1f}" if jvm else " | – | –")
              + f" | {thr[0]} → {thr[1]} → {thr[-1]} |")
        limit = {"netty": 4.5, "jetty": 7.0, "netty-alt": 4.5, "jetty-alt": 7.0}.get(t)
        if limit:
            worst = max(per(rss[0], rss[1]), per(rss[0], rss[-1]))
            checks.append((f"{name(t)} RSS growth per idle connection ≤ {limit} KiB", worst <= limit,
                           f"{per(rss[0], rss[1]):.1f} KiB all open, {per(rss[0], rss[-1]):.1f} at the end"))
            checks.append((f"{name(t)} thread count flat", thr[0] == thr[1] == thr[-1],
                           f"{thr[0]} → {thr[1]} → {thr[-1]}"))

if checks:
    print("\n### Targets\n")
    for what, ok, detail in checks:
        print(f"- {what}: {'met' if ok else 'MISSED' if ok is False else 'not measured'} ({detail})")

print("\n### Raw lines\n\n```")
for line in lines:
    print(line)
print("```")
