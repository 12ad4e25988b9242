#!/usr/bin/env python3
"""Times shell commands alternated N times and prints quantiles of each one's wall time.

    scripts/alternate-runs.py 20 'OLD/synscope analyze F' 'NEW/synscope analyze F'

On a shared VM a busy minute slows whatever runs in it, so commands are run in turn (A, B, A,
B, ...) and compared by a low quantile (the 10th percentile): what each needs when the host
leaves it alone. `perf stat -r` means mix the quiet and the busy minutes. docs/benchmarks.md
gives its before/after figures this way.
"""
import statistics
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        print("usage: alternate-runs.py N COMMAND [COMMAND...]", file=sys.stderr)
        return 2
    rounds = int(sys.argv[1])
    commands = sys.argv[2:]
    times = {c: [] for c in commands}
    for _ in range(rounds):
        for c in commands:
            start = time.perf_counter()
            done = subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[c].append(time.perf_counter() - start)
            if done.returncode != 0:
                print(f"alternate-runs.py: exit {done.returncode}: {c}", file=sys.stderr)
                return 1
    for c in commands:
        v = sorted(times[c])
        print(f"min {v[0] * 1e3:7.1f}  p10 {v[len(v) // 10] * 1e3:7.1f}  p25 {v[len(v) // 4] * 1e3:7.1f}  "
              f"median {statistics.median(v) * 1e3:7.1f} ms  {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
