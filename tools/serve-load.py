#!/usr/bin/env python3
"""A bounded load test of `reverie serve` on loopback: C concurrent clients for S seconds, each alternating caption
(an uploaded ShapesWorld PNG) and generate requests. Reports p50/p99 latency and throughput per endpoint, every
status seen (503s are the server refusing work beyond its queue, by design), and the server's resident memory at the
start and the end, and every 10 s between. Standard library only.

  python3 tools/serve-load.py --reverie .build/release/reverie --clients 8 --seconds 60 [--json out.json]
"""
import argparse
import base64
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def request(url, body, content_type):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=600) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    except OSError:
        status = -1  # connection refused or reset
    return status, time.perf_counter() - started


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reverie", default=".build/release/reverie")
    parser.add_argument("--checkpoint", default="checkpoints/shapes/model.h5")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, help="the server's --workers (default: the server's own, one per core)")
    parser.add_argument("--json")
    args = parser.parse_args()
    server = subprocess.Popen([args.reverie, "serve", "--checkpoint", args.checkpoint, "--port", "0"]
                              + (["--workers", str(args.workers)] if args.workers else []),
                              stdout=subprocess.PIPE, text=True)
    try:
        match = re.search(r"http://[^ ]+:(\d+)/", server.stdout.readline())
        base = f"http://127.0.0.1:{match.group(1)}"
        # An image to caption: the model's own drawing, as a PNG.
        drawn = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/v1/generate", data=json.dumps({"prompt": "a red circle"}).encode(),
            headers={"Content-Type": "application/json"}), timeout=600).read())
        png = base64.b64decode(drawn["image"].split(",", 1)[1])
        start_rss = rss_mb(server.pid)
        results = {"caption": [], "generate": []}
        lock = threading.Lock()
        deadline = time.time() + args.seconds

        def client(k):
            n = k
            while time.time() < deadline:
                if n % 2 == 0:
                    kind, out = "caption", request(base + "/v1/caption", png, "image/png")
                else:
                    prompt = json.dumps({"prompt": "a large blue square on the left", "noise_seed": n}).encode()
                    kind, out = "generate", request(base + "/v1/generate", prompt, "application/json")
                with lock:
                    results[kind].append(out)
                n += 1

        series = []  # (seconds, RSS MB) every 10 s: growth that levels off is warm-up, growth that does not is a leak

        def monitor():
            while time.time() < deadline:
                series.append((round(time.time() - began), round(rss_mb(server.pid), 1)))
                time.sleep(10)

        began = time.time()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        threads.append(threading.Thread(target=monitor))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - began
        health = json.loads(urllib.request.urlopen(base + "/v1/health", timeout=60).read())
        report = {"clients": args.clients, "workers": health["workers"], "seconds": round(wall, 1), "rss_mb_start": round(start_rss, 1),
                  "rss_mb_end": round(rss_mb(server.pid), 1), "rss_mb_every_10s": series}
        for kind, outs in results.items():
            ok = [t for s, t in outs if s == 200]
            statuses = {}
            for s, _ in outs:
                statuses[str(s)] = statuses.get(str(s), 0) + 1
            report[kind] = {"requests": len(outs), "ok": len(ok), "statuses": statuses,
                            "per_second": round(len(ok) / wall, 2),
                            "p50_ms": round(1000 * percentile(ok, 50), 1), "p99_ms": round(1000 * percentile(ok, 99), 1)}
        print(json.dumps(report, indent=1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
