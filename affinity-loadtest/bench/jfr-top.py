#!/usr/bin/env python3
"""Top frames of a JFR recording's execution samples, for docs/benchmarks.md.

    python3 jfr-top.py recording.jfr [N]

Prints the N (default 25) methods with the most samples on top of the stack (self time), then the
N with the most samples anywhere in the stack (total time), each as a share of all samples, and
the same for native-method samples (threads in a system call: epoll_wait, read, write). Reads
`jfr print`, which ships with the JDK."""
import collections
import re
import subprocess
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 25


def samples(event):
    out = subprocess.run(["jfr", "print", "--events", event, "--stack-depth", "64", path],
                         capture_output=True, text=True, check=True).stdout
    stacks, cur, in_stack = [], [], False
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("stackTrace = ["):
            in_stack, cur = True, []
        elif in_stack and s == "]":
            in_stack = False
            stacks.append(cur)
        elif in_stack and s and s != "...":
            cur.append(re.sub(r"\s+line:.*$", "", s))
    return stacks


def report(title, stacks):
    total = len(stacks)
    print(f"{title}: {total} samples")
    if not total:
        return
    self_c = collections.Counter(st[0] for st in stacks if st)
    total_c = collections.Counter()
    for st in stacks:
        for f in set(st):
            total_c[f] += 1
    print(f"  top {n} by self samples:")
    for f, c in self_c.most_common(n):
        print(f"    {100 * c / total:5.1f}%  {f}")
    print(f"  top {n} by total samples (anywhere in the stack):")
    for f, c in total_c.most_common(n):
        print(f"    {100 * c / total:5.1f}%  {f}")


report("Java execution samples (jdk.ExecutionSample)", samples("jdk.ExecutionSample"))
report("Native method samples (jdk.NativeMethodSample)", samples("jdk.NativeMethodSample"))
