"""Reverie against PyTorch on the same workloads, in the same run (issue 38; `make bench-compare`).

Alternates `reverie bench SUITE --json` and tools/bench/pytorch_reference.py (the PyTorch / transformers / diffusers
equivalents, same shapes and thread count) for `--rounds` rounds, and prints for every workload the seconds of both
and their ratio PyTorch s / Reverie s per round (above 1: Reverie is faster; for decoding that is Reverie tokens/s
over PyTorch tokens/s), then the range of the ratios. Ratios are only taken within a round, so drift of a shared
machine between rounds does not enter them. Not part of `make test` or CI.

    python3 tools/bench/compare.py [--rounds 3] [--suites core,llm,decoder] [--repeats 5] [--json OUT]

The PyTorch side needs a venv outside the repository, e.g.
    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch transformers diffusers
(`--index-url https://download.pytorch.org/whl/cpu` for torch skips the CUDA libraries), then
`--python /tmp/refvenv/bin/python` or REVERIE_TORCH_PYTHON.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(ROOT, "tools", "bench", "pytorch_reference.py")
SUITES = ("core", "llm", "decoder")


def default_threads():
    """The count Reverie would pick (ThreadPolicy.threads); both sides are then given it explicitly."""
    for key in ("REVERIE_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(key, "").isdigit():
            return max(1, int(os.environ[key]))
    return os.cpu_count() or 1


def run_json(command, env, label):
    print(f"  {label}: {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{label} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"{label} printed no JSON report:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def pair_rows(suite, reverie, pytorch):
    """(suite, name, variant) → (Reverie result, PyTorch result), and the names found on one side only."""
    theirs = {}
    for r in pytorch["results"]:
        theirs.setdefault(r["name"], []).append(r)
    rows, unmatched = {}, []
    for r in reverie["results"]:
        matches = theirs.pop(r["name"], [])
        for p in matches:
            rows[(suite, r["name"], p.get("variant", ""))] = (r, p)
        if not matches:
            unmatched.append(f"{suite}/{r['name']} (Reverie only)")
    unmatched += [f"{suite}/{name} (PyTorch only)" for name in theirs]
    return rows, unmatched


def fmt_seconds(s):
    return f"{s * 1e3:10.2f} ms" if s < 1 else f"{s:10.3f} s "


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reverie", default=os.path.join(ROOT, ".build", "release", "reverie"),
                        help="the release binary (default .build/release/reverie)")
    parser.add_argument("--python", default=os.environ.get("REVERIE_TORCH_PYTHON", "/tmp/refvenv/bin/python"),
                        help="a Python with torch, transformers and diffusers "
                             "(default $REVERIE_TORCH_PYTHON, else /tmp/refvenv/bin/python)")
    parser.add_argument("--rounds", type=int, default=3, help="Reverie/PyTorch pairs of runs per suite (default 3)")
    parser.add_argument("--suites", default=",".join(SUITES), help="comma-separated, of " + ", ".join(SUITES))
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per workload and run (median)")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="threads of both sides (default: REVERIE_THREADS, else OPENBLAS_NUM_THREADS, else cores)")
    parser.add_argument("--scale", choices=["full", "tiny"], default="full",
                        help="tiny: Reverie's toy llm suite and a 256 ceiling (core and decoder do not shrink), to "
                             "check the tooling; its numbers mean nothing")
    parser.add_argument("--json", metavar="OUT", help="also write every report and ratio to OUT")
    args = parser.parse_args()
    suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    if not suites or any(s not in SUITES for s in suites):
        parser.error(f"--suites takes a comma-separated subset of {', '.join(SUITES)}")
    if args.rounds < 1 or args.repeats < 1 or args.threads < 1:
        parser.error("--rounds, --repeats and --threads must be at least 1")
    for path, what in ((args.reverie, "the Reverie binary (make release)"),
                       (args.python, "the reference Python (see this script's docstring)")):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path}: not found or not executable; {what}")

    # Other work on the cores hurts PyTorch's OpenMP barriers far more than Reverie's pools: say so up front.
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.1f} before the first run; the ratios need otherwise idle cores",
              file=sys.stderr)
    # Both sides get the same thread count explicitly; OpenBLAS and torch both read their own variables too.
    env = dict(os.environ, REVERIE_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    common = ["--json", "--repeats", str(args.repeats)]
    scale = ["--scale", "tiny"] if args.scale == "tiny" else []  # Reverie's option is hidden: pass it only when set
    runs, table, unmatched = [], {}, set()
    for round_index in range(args.rounds):
        print(f"round {round_index + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for suite in suites:
            commands = {
                "reverie": [args.reverie, "bench", suite, *common, *scale],
                "pytorch": [args.python, REFERENCE, "--suite", suite, *common, *scale, "--threads", str(args.threads)],
            }
            # Alternate which side goes first, so a trend within a round does not always favour the same one.
            order = ["reverie", "pytorch"] if round_index % 2 == 0 else ["pytorch", "reverie"]
            reports = {side: run_json(commands[side], env, side) for side in order}
            if reports["reverie"]["threads"] != reports["pytorch"]["threads"]:
                sys.exit(f"thread counts differ: Reverie {reports['reverie']['threads']}, "
                         f"PyTorch {reports['pytorch']['threads']}")
            runs.append({"round": round_index + 1, "suite": suite, **reports})
            rows, missing = pair_rows(suite, reports["reverie"], reports["pytorch"])
            unmatched.update(missing)
            for key, (r, p) in rows.items():
                table.setdefault(key, []).append({
                    "round": round_index + 1, "reverie_seconds": r["seconds"], "pytorch_seconds": p["seconds"],
                    "ratio": p["seconds"] / r["seconds"],
                    "reverie_parameters": r["detail"].get("parameters"),
                    "pytorch_parameters": p["detail"].get("parameters")})

    framework = runs[0]["pytorch"].get("framework", {})
    print(f"\nReverie vs torch {framework.get('torch', '?')} (transformers {framework.get('transformers', '?')}, "
          f"diffusers {framework.get('diffusers', '?')}); {args.threads} threads, {args.rounds} rounds of "
          f"{args.repeats} repeats, scale {args.scale}")
    print("ratio = PyTorch seconds / Reverie seconds within a round (above 1: Reverie is faster)\n")
    print(f"{'suite':<8} {'workload':<46} {'pytorch':<16} {'round':>5} {'Reverie':>13} {'PyTorch':>13} {'ratio':>7}")
    summary = []
    for (suite, name, variant), cells in table.items():
        for i, c in enumerate(cells):
            left = f"{suite:<8} {name:<46} {variant:<16}" if i == 0 else " " * 72
            print(f"{left} {c['round']:>5} {fmt_seconds(c['reverie_seconds'])} {fmt_seconds(c['pytorch_seconds'])} "
                  f"{c['ratio']:7.2f}")
        ratios = [c["ratio"] for c in cells]
        print(f"{'':72} {'range':>5} {'':>27} {min(ratios):7.2f}–{max(ratios):.2f}")
        summary.append({"suite": suite, "name": name, "variant": variant, "rounds": cells,
                        "ratio_min": min(ratios), "ratio_max": max(ratios)})
    # The workloads only compare if the models are the same: both sides report their parameter counts.
    for row in summary:
        c = row["rounds"][0]
        if c["reverie_parameters"] is not None and c["pytorch_parameters"] is not None:
            same = "equal" if c["reverie_parameters"] == c["pytorch_parameters"] else "DIFFERENT"
            print(f"parameters {row['name']} [{row['variant']}]: Reverie {int(c['reverie_parameters'])}, "
                  f"PyTorch {int(c['pytorch_parameters'])} ({same})")
    for u in sorted(unmatched):
        print(f"unmatched: {u}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rounds": args.rounds, "repeats": args.repeats, "scale": args.scale,
                       "suites": suites, "rows": summary, "runs": runs}, f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
