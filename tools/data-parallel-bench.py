#!/usr/bin/env python3
"""Two cores, used two ways: one process with two threads against two mpirun ranks of one thread each (with and
without reducing gradients during backward), on training steps of the shapes pipeline's stages. The three
configurations alternate, so a busy machine slows each about equally; medians over the rounds, and ratios.

    python3 tools/data-parallel-bench.py --reverie .build/release/reverie [--stages mllm,decoder] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import subprocess


def bench(reverie, stages, steps, ranks, overlap):
    env = dict(os.environ, REVERIE_THREADS=str(2 // ranks), OPENBLAS_NUM_THREADS=str(2 // ranks))
    command = [reverie, "bench", "parallel", "--stages", stages, "--steps", str(steps), "--json"]
    if not overlap:
        command.append("--no-overlap")
    if ranks > 1:
        command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks),
                   "-x", "REVERIE_THREADS", "-x", "OPENBLAS_NUM_THREADS"] + command
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return {s["stage"]: s for s in json.loads(out)["stages"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reverie", default=".build/release/reverie")
    parser.add_argument("--stages", default="mllm,decoder")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configs = {"1 rank × 2 threads": (1, True), "2 ranks × 1 thread": (2, True),
               "2 ranks × 1 thread, no overlap": (2, False)}
    runs = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, (ranks, overlap) in configs.items():
            runs[name].append(bench(args.reverie, args.stages, args.steps, ranks, overlap))
    base = "1 rank × 2 threads"
    for stage in args.stages.split(","):
        print(f"{stage}:")
        for name in configs:
            step = statistics.median(r[stage]["seconds_per_step"] for r in runs[name])
            wait = statistics.median(r[stage]["communication_seconds_per_step"] for r in runs[name])
            ref = statistics.median(r[stage]["seconds_per_step"] for r in runs[base])
            print(f"  {name:32s} {step * 1e3:9.1f} ms/step  all-reduce waited {wait * 1e3:7.2f} ms/step"
                  f"  speed {ref / step:5.2f}× of one process")


if __name__ == "__main__":
    main()
