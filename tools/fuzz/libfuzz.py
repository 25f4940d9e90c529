#!/usr/bin/env python3
"""Coverage-guided fuzzing of Reverie's input readers in process, under AddressSanitizer: each target of `reverie-fuzz` (image, recipe,
tokenizer, safetensors, manifest, checkpoint, tensorboard, hfconfig) runs under libFuzzer for S seconds, starting from
the repository's own files of that kind. Any input that traps, hangs (-timeout) or allocates past the limits is saved
under .build/libfuzz/artifacts/ and fails the run; replay one with `reverie-fuzz TARGET FILE` in any build.

  make libfuzz                       # builds with -sanitize=fuzzer, then: python3 tools/fuzz/libfuzz.py --seconds 60
  python3 tools/fuzz/libfuzz.py --fuzzer .build/libfuzz/release/reverie-fuzz --seconds 300 --targets image,recipe
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = {
    "image": ["Tests/Fixtures/photos/*.*", "Tests/Fixtures/orientation/*.jpg"],
    "recipe": ["recipes/*/*.yaml"],
    "tokenizer": ["Tests/Fixtures/tokenizer/tokenizer.json", "Tests/Fixtures/pretrained/llm/tokenizer.json"],
    "safetensors": ["Tests/Fixtures/llama/mha_tied/model.safetensors", "Tests/Fixtures/siglip/head/model.safetensors"],
    "manifest": ["recipes/manifest/example.jsonl"],
    "checkpoint": [],  # written by `reverie-fuzz seeds`
    "tensorboard": ["Tests/Fixtures/tensorboard/*"],
    "hfconfig": ["Tests/Fixtures/*/*/config.json", "Tests/Fixtures/pretrained/*/config.json",
                 "Tests/Fixtures/pretrained/sd/*/config.json"],
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fuzzer", default=os.path.join(REPO, ".build/libfuzz/release/reverie-fuzz"))
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--targets", default=",".join(SEEDS))
    parser.add_argument("--work", default=os.path.join(REPO, ".build/libfuzz"))
    args = parser.parse_args()
    artifacts = os.path.join(args.work, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    generated = os.path.join(args.work, "seeds")
    subprocess.run([args.fuzzer, "seeds", generated], check=True)
    # Leak reports would flag the runtime's caches, not input handling.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", REVERIE_THREADS="1", ASAN_OPTIONS="detect_leaks=0")
    failed = []
    print(f"{'target':12} {'runs':>10} {'coverage':>9} {'corpus':>7}  result")
    for target in args.targets.split(","):
        corpus = os.path.join(args.work, "corpus", target)  # grows across runs
        os.makedirs(corpus, exist_ok=True)
        seeds = [f for pattern in SEEDS[target] for f in glob.glob(os.path.join(REPO, pattern)) if os.path.isfile(f)]
        seeds += glob.glob(os.path.join(generated, target, "*"))
        for f in seeds:
            shutil.copy(f, os.path.join(corpus, "seed-" + os.path.basename(os.path.dirname(f)) + "-"
                                        + os.path.basename(f)))
        before = set(os.listdir(artifacts))
        p = subprocess.run([args.fuzzer, target, f"-max_total_time={args.seconds}", "-timeout=20",
                            "-rss_limit_mb=4096", "-malloc_limit_mb=2048", "-max_len=262144",
                            f"-artifact_prefix={artifacts}/{target}-", "-print_final_stats=1", corpus],
                           capture_output=True, text=True, env=env)
        log = p.stderr
        with open(os.path.join(args.work, f"{target}.log"), "w") as f:
            f.write(log)
        runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
        cov = re.findall(r"cov: (\d+)", log)
        new = sorted(set(os.listdir(artifacts)) - before)
        result = "ok" if p.returncode == 0 and not new else f"FAILED (exit {p.returncode}): " + ", ".join(new)
        if result != "ok":
            failed.append(target)
            tail = [line for line in log.splitlines() if "ERROR" in line or "Fatal" in line or "SUMMARY" in line]
            result += "\n    " + "\n    ".join(tail[:5])
        print(f"{target:12} {runs[-1] if runs else '?':>10} {cov[-1] if cov else '?':>9} "
              f"{len(os.listdir(corpus)):>7}  {result}", flush=True)
    if failed:
        print(f"\n{len(failed)} target(s) failed; inputs in {artifacts} (replay: reverie-fuzz TARGET FILE)")
        sys.exit(1)


if __name__ == "__main__":
    main()
