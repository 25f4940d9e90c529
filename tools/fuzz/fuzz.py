#!/usr/bin/env python3
"""Malformed inputs for every CLI entry point, classified: refused (an error exit with a message), accepted (exit 0),
crash (a signal or a Swift runtime trap) or hang (over the time limit). Deterministic for a seed.

    python3 tools/fuzz/fuzz.py --reverie .build/release/reverie [--cases 1200] [--seed 1] [--time-limit 30]
    make fuzz            # the full run;  make fuzz-ci: a short slice

Families: checkpoints (truncated, bit-flipped), images (truncated, flipped, huge declared sizes, odd files), recipes
(deep nesting, alias bombs, huge or wrong-typed values), --set values, tokenizer.json, safetensors + config.json for
`convert`, manifests, numeric flags and prompts. Inputs that crash or hang are kept under --out for replay.
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTOS = os.path.join(REPO, "Tests/Fixtures/photos")
MODEL = os.path.join(REPO, "checkpoints/shapes/model.h5")
LLM = os.path.join(REPO, "Tests/Fixtures/pretrained/llm")
TRAP_WORDS = ("Fatal error", "Program crashed", "Swift runtime failure", "Illegal instruction", "Segmentation fault")


def run(reverie, args, limit, cwd):
    start = time.time()
    try:
        p = subprocess.run([reverie] + args, capture_output=True, timeout=limit, cwd=cwd,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1", REVERIE_THREADS="1"))
    except subprocess.TimeoutExpired:
        return "hang", "", time.time() - start
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    if p.returncode < 0 or p.returncode >= 128 or any(w in text for w in TRAP_WORDS):
        return "crash", text[-2000:], time.time() - start
    if p.returncode == 0:
        return "accepted", text[-300:], time.time() - start
    return ("refused" if text.strip() else "refused-silently"), text[-300:], time.time() - start


def truncations(data, rng, n):
    return [data[:rng.randrange(0, max(1, len(data)))] for _ in range(n)]


def flips(data, rng, n, bits=1):
    out = []
    for _ in range(n):
        b = bytearray(data)
        for _ in range(bits):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        out.append(bytes(b))
    return out


def png_with_size(width, height, depth=8, color=2):
    raw = b"\x00" + b"\x00" * 3
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_with_size(data, width, height):
    b = bytearray(data)
    for i in range(len(b) - 9):
        if b[i] == 0xFF and b[i + 1] in (0xC0, 0xC1, 0xC2):
            b[i + 5:i + 7] = struct.pack(">H", height)
            b[i + 7:i + 9] = struct.pack(">H", width)
            break
    return bytes(b)


HUGE = ["1e39", "inf", "-inf", "nan", "-1", "0", "9223372036854775807", "4611686018427387904", "1099511627776",
        "\"text\"", "[1, 2]", "{a: 1}", "null", "true", "1.5", "", "~", "'" + "x" * 5000 + "'"]


def mutate_value(rng):
    return rng.choice(HUGE)


class Fuzzer:
    def __init__(self, args):
        self.args, self.rng = args, random.Random(args.seed)
        self.work = os.path.abspath(args.out)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.counts, self.bad, self.n = {}, [], 0

    def file(self, name, data):
        path = os.path.join(self.work, f"{self.n:05d}-{name}")
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def case(self, family, args, keep):
        self.n += 1
        kind, text, seconds = run(self.args.reverie, args, self.args.time_limit, self.work)
        self.counts.setdefault(family, {}).setdefault(kind, 0)
        self.counts[family][kind] += 1
        if kind in ("crash", "hang", "refused-silently"):
            self.bad.append((family, kind, args, keep, text.strip().splitlines()[:3]))
        elif self.args.verbose:
            print(f"{family:12s} {kind:9s} {seconds:5.1f}s {' '.join(args)[:120]}")

    # Families. Each draws `n` cases.
    def checkpoints(self, n):
        data = open(MODEL, "rb").read()
        photo = os.path.join(PHOTOS, "camera.png")
        inputs = truncations(data, self.rng, n // 3) + flips(data, self.rng, n - n // 3, bits=self.rng.choice([1, 8]))
        for i, d in enumerate(inputs):
            path = self.file("model.h5", d)
            command = [["inspect", path], ["inspect", "--verify", path],
                       ["caption", "--checkpoint", path, "--image", photo]][i % 3]
            self.case("checkpoint", command, path)

    def images(self, n):
        sources = [os.path.join(PHOTOS, f) for f in sorted(os.listdir(PHOTOS)) if f.endswith((".png", ".jpg"))]
        odd = [self.work, "/dev/zero", "/dev/null"]
        loop = os.path.join(self.work, "loop.png")
        if not os.path.lexists(loop):
            os.symlink(loop, loop)
        fifo = os.path.join(self.work, "fifo.png")
        if not os.path.exists(fifo):
            os.mkfifo(fifo)
        odd += [loop, fifo]
        for i in range(n):
            src = open(self.rng.choice(sources), "rb").read()
            r = i % 5
            if r == 0:
                d = truncations(src, self.rng, 1)[0]
            elif r == 1:
                d = flips(src, self.rng, 1, bits=self.rng.choice([1, 4, 32]))[0]
            elif r == 2:
                d = png_with_size(self.rng.choice([32768, 65535, 12000, 1 << 31 - 1]), self.rng.choice([32768, 1, 12000]),
                                  self.rng.choice([8, 16]), self.rng.choice([0, 2, 6]))
            elif r == 3:
                jpg = open(os.path.join(PHOTOS, "camera_gray.jpg"), "rb").read()
                d = jpeg_with_size(jpg, self.rng.choice([65535, 32767, 0]), self.rng.choice([65535, 1, 0]))
            else:
                self.case("image", ["caption", "--image", self.rng.choice(odd)], None)
                continue
            path = self.file("image" + (".jpg" if d[:2] == b"\xff\xd8" else ".png"), d)
            self.case("image", ["caption", "--image", path], path)

    def recipes(self, n):
        base = [os.path.join(REPO, "recipes/shapes", f) for f in sorted(os.listdir(os.path.join(REPO, "recipes/shapes")))
                if f.endswith(".yaml")]
        for i in range(n):
            text = open(self.rng.choice(base)).read()
            r = i % 6
            if r == 0:
                depth = self.rng.choice([100, 1000, 10000])
                text += "\nx: " + "[" * depth + "]" * depth + "\n"
            elif r == 1:
                lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                for k in range(1, 10):
                    lines.append(f"{chr(97 + k)}: &{chr(97 + k)} [" + ", ".join([f"*{chr(96 + k)}"] * 9) + "]")
                text += "\n" + "\n".join(lines) + "\n"
            elif r == 2:
                text += "\n" + "\n".join("  " * k + f"k{k}:" for k in range(self.rng.choice([200, 3000]))) + "\n"
            elif r == 3:  # a value replaced
                lines = text.splitlines()
                j = self.rng.randrange(len(lines))
                if ":" in lines[j]:
                    key = lines[j].split(":")[0]
                    lines[j] = f"{key}: {mutate_value(self.rng)}"
                text = "\n".join(lines)
            elif r == 4:
                text = text[:self.rng.randrange(len(text))]
            else:
                text = text.replace(": ", ":", self.rng.randrange(1, 4))
            path = self.file("recipe.yaml", text)
            self.case("recipe", ["recipes", "validate", path], path)

    def overrides(self, n):
        keys = ["train.steps", "train.batch", "train.accumulate", "data.canvas", "optim.lr", "model.llm.hidden",
                "model.llm.vocab", "model.llm.layers", "model.llm.max_positions", "model.unet.channels",
                "model.vae.channels", "model.vision.hidden", "eval.count", "data.mixture", "seed", "model.llm.heads",
                "model.unet.norm_groups", "loss.ce", "checkpoint.every", "data.items"]
        recipes = ["recipes/shapes/vae.yaml", "recipes/shapes/mllm.yaml", "recipes/shapes/decoder.yaml"]
        for _ in range(n):
            value = mutate_value(self.rng) if self.rng.random() < 0.8 else "[" * 5000
            args = ["recipes", "validate", os.path.join(REPO, self.rng.choice(recipes)), "--set",
                    f"{self.rng.choice(keys)}={value}"]
            self.case("--set", args, None)

    def tokenizers(self, n):
        text = open(os.path.join(REPO, "recipes/shapes/tokenizer.json")).read()
        for i in range(n):
            r = i % 3
            if r == 0:
                d = text[:self.rng.randrange(len(text))]
            elif r == 1:
                j = json.loads(text)
                j["model"]["vocab"][self.rng.choice(list(j["model"]["vocab"]))] = self.rng.choice(
                    [-1, 1 << 40, "x", None, 0])
                d = json.dumps(j)
            else:
                j = json.loads(text)
                j["model"]["merges"] = self.rng.choice([["a"], [["a", "b", "c"]], 5, [None]])
                d = json.dumps(j)
            path = self.file("tokenizer.json", d)
            self.case("tokenizer", ["recipes", "validate", os.path.join(REPO, "recipes/shapes/mllm.yaml"), "--set",
                                    f"model.llm.tokenizer={path}"], path)

    def converts(self, n):
        config = json.load(open(os.path.join(LLM, "config.json")))
        weights = open(os.path.join(LLM, "model.safetensors"), "rb").read()
        length = struct.unpack("<Q", weights[:8])[0]
        header = json.loads(weights[8:8 + length])
        for i in range(n):
            d = os.path.join(self.work, f"{self.n:05d}-convert")
            os.makedirs(d)
            c, h, body = dict(config), json.loads(json.dumps(header)), weights[8 + length:]
            r = i % 4
            if r == 0:
                c[self.rng.choice(["hidden_size", "vocab_size", "num_hidden_layers", "intermediate_size",
                                   "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                                   "rope_theta", "rms_norm_eps", "head_dim"])] = json.loads(
                    self.rng.choice(["0", "-1", "1099511627776", "4611686018427387904", "1e300", "\"x\"", "null"]))
            elif r == 1:
                name = self.rng.choice([k for k in h if k != "__metadata__"])
                h[name]["shape"] = self.rng.choice([[1 << 31, 1 << 31], [1 << 62], [0], [-1], [3, 3, 3, 3, 3, 3, 3, 3]])
            elif r == 2:
                name = self.rng.choice([k for k in h if k != "__metadata__"])
                h[name]["data_offsets"] = self.rng.choice([[0, 1 << 62], [5, 1], [-8, 8], [0, 0]])
            else:
                body = truncations(body, self.rng, 1)[0]
            encoded = json.dumps(h).encode()
            open(os.path.join(d, "model.safetensors"), "wb").write(struct.pack("<Q", len(encoded)) + encoded + body)
            json.dump(c, open(os.path.join(d, "config.json"), "w"))
            shutil.copy(os.path.join(LLM, "tokenizer.json"), d)
            self.case("convert", ["convert", d, "-o", os.path.join(d, "out.h5")], d)

    def manifests(self, n):
        photo = os.path.join(PHOTOS, "camera.png")
        lines = [json.dumps({"kind": "caption", "image": photo, "text": "a camera"}),
                 json.dumps({"kind": "edit", "source": photo, "instruction": "x", "target": photo})]
        bad = ["{not json", json.dumps({"kind": "poem"}), json.dumps({"kind": "caption"}), "\xff\xfe",
               json.dumps({"kind": "caption", "image": "/nonexistent.png", "text": "x"}),
               json.dumps({"kind": "caption", "image": "/dev/zero", "text": "x"}), "", "[]", "null",
               json.dumps({"kind": "caption", "image": photo, "text": "x" * 100000})]
        for _ in range(n):
            text = "\n".join(self.rng.choice(lines + bad) for _ in range(self.rng.randrange(0, 6)))
            if self.rng.random() < 0.3:
                text = text.replace("\n", "\r\n")
            path = self.file("data.jsonl", text)
            self.case("manifest", ["recipes", "validate", os.path.join(REPO, "recipes/manifest/vae.yaml"), "--set",
                                   f"data.manifest={path}"], path)

    def flags(self, n):
        for i in range(n):
            out = os.path.join(self.work, f"{self.n:05d}-out.png")
            value = self.rng.choice(["inf", "nan", "-1", "0", "1e39", "9223372036854775807", "x", "1e-45", "2"])
            command = self.rng.choice([
                ["generate", "--prompt", "a red circle", "--out", out, "--steps", value],
                ["generate", "--prompt", "a red circle", "--out", out, "--guidance", value],
                ["generate", "--prompt", "a red circle", "--out", out, "--seed", value],
                ["edit", "--image", os.path.join(PHOTOS, "camera.png"), "--instruction", "x", "--out", out,
                 "--keep-threshold", value],
                ["eval", "--count", value], ["bench", "core", "--repeats", value],
                ["generate", "--prompt", self.rng.choice(["", "\u0001\u007f", "😀" * 2000, "a " * 5000]), "--out", out],
                ["generate", "--prompt", "a", "--out", self.rng.choice(["/dev/full", self.work, "/nonexistent/x.png"])],
            ])
            self.case("flags", command, None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reverie", default=os.path.join(REPO, ".build/release/reverie"))
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=30)
    parser.add_argument("--out", default="/tmp/reverie-fuzz")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    args.reverie = os.path.abspath(args.reverie)
    f = Fuzzer(args)
    shares = {"checkpoints": 0.12, "images": 0.14, "recipes": 0.14, "overrides": 0.14, "tokenizers": 0.08,
              "converts": 0.14, "manifests": 0.12, "flags": 0.12}
    started = time.time()
    for family, share in shares.items():
        getattr(f, family)(max(1, round(args.cases * share)))
    print(f"{f.n} cases in {time.time() - started:.0f} s (seed {args.seed}, limit {args.time_limit:.0f} s)")
    for family, kinds in f.counts.items():
        print(f"  {family:11s} " + "  ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    totals = {}
    for kinds in f.counts.values():
        for k, v in kinds.items():
            totals[k] = totals.get(k, 0) + v
    print("total: " + "  ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    for family, kind, command, keep, lines in f.bad:
        print(f"{kind.upper()} [{family}] reverie {' '.join(command)[:200]}\n    input: {keep}\n    " +
              "\n    ".join(lines))
    sys.exit(1 if any(k in totals for k in ("crash", "hang")) else 0)


if __name__ == "__main__":
    main()
