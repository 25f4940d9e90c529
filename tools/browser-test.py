#!/usr/bin/env python3
"""The web page of `reverie serve` in a real browser: headless Chromium driven through chromedriver's WebDriver
protocol (plain HTTP and JSON, so nothing beyond Python's standard library and Debian's chromium and
chromium-driver). It draws an image, applies two edits, undoes one, goes back to the first turn and branches from
it, and checks at each step that the page shows the images and captions the server holds for the session; it saves a
screenshot of each step.

  python3 tools/browser-test.py --reverie .build/debug/reverie --out /tmp/browser-test
"""
import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {url}: {error.code} {error.read().decode(errors='replace')}") from None


class Browser:
    def __init__(self, driver):
        self.driver = driver
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,900"]}}}}
        self.session = http("POST", f"{driver}/session", caps)["value"]["sessionId"]

    def url(self, path):
        return f"{self.driver}/session/{self.session}{path}"

    def go(self, address):
        http("POST", self.url("/url"), {"url": address})

    def find(self, css):
        found = http("POST", self.url("/element"), {"using": "css selector", "value": css})["value"]
        if ELEMENT not in found:
            raise AssertionError(f"no element {css}: {found}")
        return found[ELEMENT]

    def type(self, css, text):
        http("POST", self.url(f"/element/{self.find(css)}/value"), {"text": text})

    def click(self, css):
        http("POST", self.url(f"/element/{self.find(css)}/click"), {})

    def js(self, script, *args):
        return http("POST", self.url("/execute/sync"), {"script": script, "args": list(args)})["value"]

    def screenshot(self, path):
        png = base64.b64decode(http("GET", self.url("/screenshot"))["value"])
        with open(path, "wb") as f:
            f.write(png)

    def wait(self, script, what, seconds=240):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.js(script):
                return
            time.sleep(0.25)
        status = self.js("return document.getElementById('status').textContent")
        raise AssertionError(f"timed out waiting for {what} (status: {status!r})")

    def close(self):
        http("DELETE", self.url(""))


# What the page shows against what the server holds for its session.
STATE = """
const turns = [...document.querySelectorAll('#history .turn')];
const s = session;
if (!s) return null;
const current = s.turns[s.current];
const img = document.getElementById('current-image');
return {
  id: s.id, current: s.current,
  highlighted: turns.filter(t => t.classList.contains('current')).map(t => +t.dataset.index),
  shownCaptions: turns.map(t => t.querySelector('.caption').textContent),
  captionShown: document.getElementById('current-caption').textContent,
  currentCaption: current.caption,
  imageIsCurrent: img.src === blobs.get(current.image),
  imageLoaded: img.complete && img.naturalWidth > 0,
  stripImagesLoaded: turns.every(t => { const i = t.querySelector('img'); return i.complete && i.naturalWidth > 0; }),
  what: turns.map(t => t.querySelector('.what').textContent),
  status: document.getElementById('status').textContent,
  error: document.getElementById('status').className === 'error',
};
"""

IDLE = "return typeof session !== 'undefined' && session !== null && !document.querySelector('button:disabled')"


def check(browser, server, turns, current, step, out):
    browser.wait(f"{IDLE} && session.turns.length === {turns} && session.current === {current}", step)
    browser.wait("const i = document.getElementById('current-image'); return i.complete && i.naturalWidth > 0",
                 f"{step}: the image")
    state = browser.js(STATE)
    held = http("GET", f"{server}/v1/sessions/{state['id']}")
    assert not state["error"], f"{step}: the page shows an error: {state['status']}"
    assert held["current"] == current, f"{step}: the server's current turn is {held['current']}, not {current}"
    assert state["highlighted"] == [current], f"{step}: highlighted {state['highlighted']}, expected [{current}]"
    assert state["shownCaptions"] == [t["caption"] for t in held["turns"]], f"{step}: captions differ from the server's"
    assert state["captionShown"] == held["turns"][current]["caption"], f"{step}: the current caption is not the server's"
    assert state["imageIsCurrent"] and state["imageLoaded"] and state["stripImagesLoaded"], f"{step}: images {state}"
    browser.screenshot(os.path.join(out, f"{step}.png"))
    print(f"ok  {step}: {turns} turns, current {current}: {state['captionShown']!r}")
    return state, held


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reverie", default=".build/debug/reverie")
    parser.add_argument("--checkpoint", default="checkpoints/shapes/model.h5")
    parser.add_argument("--out", default="/tmp/reverie-browser-test")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    serve = subprocess.Popen([args.reverie, "serve", "--checkpoint", args.checkpoint, "--port", "0"],
                             stdout=subprocess.PIPE, text=True)
    port = free_port()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = None
    try:
        line = serve.stdout.readline()
        match = re.search(r"http://[^ ]+:(\d+)/", line)
        assert match, f"reverie serve said {line!r}"
        server = f"http://127.0.0.1:{match.group(1)}"
        for _ in range(100):
            try:
                http("GET", f"http://127.0.0.1:{port}/status")
                break
            except Exception:
                time.sleep(0.1)
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.go(server + "/")
        browser.wait("return document.getElementById('model').textContent.includes('64')", "the page")
        browser.type("#prompt", "a large red circle in the top left on a white background")
        browser.click("#draw")
        check(browser, server, 1, 0, "1-drawn", args.out)
        browser.type("#instruction", "make the red circle blue")
        browser.click("#edit")
        check(browser, server, 2, 1, "2-first-edit", args.out)
        browser.type("#instruction", "move the blue circle to the bottom right")
        browser.click("#edit")
        check(browser, server, 3, 2, "3-second-edit", args.out)
        browser.click("#undo")
        check(browser, server, 3, 1, "4-undone", args.out)
        browser.click("#history .turn[data-index='0']")
        check(browser, server, 3, 0, "5-back-to-the-drawing", args.out)
        browser.type("#instruction", "make the red circle green")
        browser.click("#edit")
        state, held = check(browser, server, 4, 3, "6-branch", args.out)
        assert held["turns"][3]["parent"] == 0, f"the branch's parent is {held['turns'][3].get('parent')}"
        assert state["what"][3].endswith("(from 0)"), state["what"][3]
        print(f"browser test passed; screenshots in {args.out}")
    finally:
        if browser:
            browser.close()
        driver.terminate()
        serve.terminate()
        driver.wait()
        serve.wait()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
