#!/usr/bin/env python3
"""Which of Reverie's functions runs while a core sits idle, from a system-wide `perf` recording.

A step that keeps one of two cores idle a fifth of the time cannot reach the sgemm ceiling however fast its kernels
are. This reads `perf script` output of a whole-machine recording, finds the stretches in which the main thread was
inside FUNCTION (a substring of a mangled symbol, such as `unetTrainingStep`), and for every sample of an idle core
in those stretches names what the main thread was running at that moment: the serial parts of the step.

    perf record -a -g -F 997 -o sys.data .build/release/reverie bench decoder --repeats 8
    perf script -i sys.data -F comm,tid,cpu,time,ip,sym > sys.script
    python3 tools/bench/idle_samples.py sys.script unetTrainingStep

Frame-pointer stacks stop inside OpenBLAS and oneDNN's generated code, so those show as their leaf symbol (or
`[unknown]`) without a caller.
"""

import argparse
import bisect
import collections
import re

HEADER = re.compile(r"(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):")
OFFSET = re.compile(r"\+0x[0-9a-f]+$")


def samples(path):
    current = None
    with open(path, errors="replace") as lines:
        for line in lines:
            if not line.strip():
                if current:
                    yield current
                current = None
            elif line[0] not in " \t":
                m = HEADER.match(line)
                current = m and {"comm": m.group(1).strip(), "tid": int(m.group(2)), "t": float(m.group(4)), "stack": []}
            elif current is not None:
                parts = line.split(None, 1)
                if len(parts) > 1:
                    current["stack"].append(OFFSET.sub("", parts[1].strip()))
    if current:
        yield current


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", help="output of perf script -F comm,tid,cpu,time,ip,sym")
    parser.add_argument("function", help="substring of the symbol whose stretches to look at")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds without a sample that end a stretch")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    records = list(samples(args.script))
    # The reverie binary re-executes itself through /proc/self/exe, so its threads are named "exe".
    inside = [r for r in records if r["comm"] in ("exe", "reverie") and any(args.function in f for f in r["stack"])]
    if not inside:
        raise SystemExit(f"no sample of the main thread inside {args.function!r}")
    main_tid = collections.Counter(r["tid"] for r in inside).most_common(1)[0][0]
    times = sorted(r["t"] for r in inside if r["tid"] == main_tid)
    stretches, start, previous = [], times[0], times[0]
    for t in times[1:]:
        if t - previous > args.gap:
            stretches.append((start, previous))
            start = t
        previous = t
    stretches.append((start, previous))
    starts = [a for a, _ in stretches]

    def within(t):
        i = bisect.bisect_right(starts, t) - 1
        return i >= 0 and t <= stretches[i][1]

    chosen = [r for r in records if within(r["t"])]
    main_samples = sorted((r for r in chosen if r["tid"] == main_tid), key=lambda r: r["t"])
    main_times = [r["t"] for r in main_samples]
    idle = [r for r in chosen if r["comm"] == "swapper"]
    running = collections.Counter()
    for r in idle:
        i = bisect.bisect_left(main_times, r["t"])
        if i < len(main_samples):
            stack = main_samples[i]["stack"]
            swift = [f for f in stack if f.startswith("$s")]
            running[(swift[0] if swift else stack[0])[:100] if stack else "?"] += 1
    seconds = sum(b - a for a, b in stretches)
    print(f"{len(stretches)} stretches inside {args.function}, {seconds:.2f} s; main thread {main_tid}")
    print(f"idle-core samples: {len(idle)} of {len(chosen)} ({100 * len(idle) / max(len(chosen), 1):.1f} %)")
    print("what the main thread ran meanwhile:")
    for name, count in running.most_common(args.top):
        print(f"{count:6d}  {name}")


if __name__ == "__main__":
    main()
