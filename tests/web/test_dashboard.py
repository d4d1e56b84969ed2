#!/usr/bin/env python3
"""The dashboard in headless Chromium against a real two-node mesh (docs/HTTP.md, docs/TESTING.md).

Starts two `meshslice up` daemons on 127.0.0.1 (static peers, no mDNS), opens the dashboard of
the first in Debian's chromium through chromedriver (WebDriver over HTTP on 127.0.0.1), and checks
that it loads, shows this device and the peer, follows a slice change and the peer's death (kill
-9) live over the WebSocket, and logs no JavaScript errors. Screenshots (desktop and phone size)
are kept in <build>/test-artifacts/ for a person to look at.

Usage: test_dashboard.py <build-dir>. Exit 0 pass, 1 fail, 77 skip (no chromium/chromedriver).
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DEADLINE_S = 20


def fail(msg):
    print("FAIL:", msg, flush=True)
    raise SystemExit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, binary, state_dir, args):
        self.dir = state_dir
        self.err = open(state_dir + ".err", "w")
        self.proc = subprocess.Popen([binary, "up", "--state-dir", state_dir, "--no-mdns", "--listen", "127.0.0.1:0",
                                      "--log-level", "info"] + args,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.info = {}
        deadline = time.time() + DEADLINE_S
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            line = line.strip()
            if line == "ready":
                return
            key, _, value = line.partition(": ")
            self.info[key] = value
        fail("daemon on %s did not start: %s" % (state_dir, open(state_dir + ".err").read()))


def run(binary, *args):
    return subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=30)


class WebDriver:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            fail("webdriver %s %s: %s" % (method, path, e.read()[:500]))

    def start(self, profile):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1280,1300"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def s(self, path):
        return "/session/%s%s" % (self.session, path)

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def js(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def wait(self, what, script, *args, timeout=DEADLINE_S):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(script, *args):
                return
            time.sleep(0.1)  # polling the page: the browser has no event to wait on from here
        fail("the dashboard never showed %s; page text:\n%s" % (what, self.js("return document.body.innerText")))

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", self.s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)
        print("screenshot:", path, len(png), "bytes", flush=True)

    def resize(self, width, height):
        self.call("POST", self.s("/window/rect"), {"width": width, "height": height})

    def browser_log(self):
        return self.call("POST", self.s("/se/log"), {"type": "browser"}) or []

    def quit(self):
        if self.session:
            self.call("DELETE", "/session/" + self.session)
            self.session = None


PEER_IS = ("const r = document.querySelector('[data-peer=\"' + arguments[0] + '\"]');"
           " return !!r && r.dataset.state === arguments[1];")
SLICE_ROW = "const r = document.querySelector('#stores [data-store=\"' + arguments[0] + '\"] tr[data-device=\"' + arguments[1] + '\"]');"
SLICE_HAS = SLICE_ROW + " return !!r && r.innerText.includes(arguments[2]);"
SLICE_GONE = SLICE_ROW + " return r === null;"


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = os.path.join(os.environ.get("MESHSLICE_BIN_DIR", build), "meshslice")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        print("SKIP: chromium and chromedriver are needed (scripts/deps.sh web)")
        return 77
    artifacts = os.path.join(build, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    root = tempfile.mkdtemp(prefix="ms-dash-")
    procs = []
    driver_proc = None
    wd = None
    try:
        a = Daemon(binary, root + "/a", ["--name", "kitchen", "--http", "127.0.0.1:0"])
        procs.append(a)
        if run(binary, "mesh", "join", a.info["invite"], "--state-dir", root + "/b").returncode != 0:
            fail("mesh join")
        b = Daemon(binary, root + "/b", ["--name", "hall", "--peer", a.info["listen"]])
        procs.append(b)
        for d, value in ((a, '{"temp": 21.5, "room": "kitchen"}'), (b, '{"temp": 19}')):
            r = run(binary, "set", "sensors", value, "--state-dir", d.dir)
            if r.returncode != 0:
                fail("set: " + r.stderr)
        token = run(binary, "http", "token", "--state-dir", a.dir).stdout.strip()
        url = "http://%s/#token=%s" % (a.info["http"], token)

        port = free_port()
        driver_proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port, "--allowed-ips=127.0.0.1"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wd = WebDriver(port)
        deadline = time.time() + DEADLINE_S
        while True:
            try:
                urllib.request.urlopen(wd.base + "/status", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    fail("chromedriver did not start")
                time.sleep(0.1)  # waiting for a process to listen: nothing to wait on
        wd.start(root + "/profile")

        started = time.time()
        wd.go(url)
        # Loads: this device, the peer linked, both slices of the store.
        wd.wait("this device", "return document.getElementById('self-device').textContent === arguments[0]", a.info["device"])
        wd.wait("the peer as linked", PEER_IS, b.info["device"], "linked")
        wd.wait("both slices", "return !!document.querySelector('#stores tr[data-device=\"' + arguments[0] + '\"]') && "
                "!!document.querySelector('#stores tr[data-device=\"' + arguments[1] + '\"]')", a.info["device"], b.info["device"])
        wd.wait("the live stream", "return document.getElementById('link').dataset.state === 'live'")
        if wd.js("return location.hash") != "":
            fail("the token stays in the address bar")
        print("dashboard loaded in %.2f s" % (time.time() - started), flush=True)

        # A slice changes on the peer: the page follows without a reload.
        marker = wd.js("window.__noReload = 42; return window.__noReload")
        r = run(binary, "set", "sensors", '{"temp": 25.5, "note": "window open"}', "--state-dir", b.dir)
        if r.returncode != 0:
            fail("set: " + r.stderr)
        changed = time.time()
        wd.wait("the new value", SLICE_HAS, "sensors", b.info["device"], "window open")
        print("slice change shown after %.2f s" % (time.time() - changed), flush=True)
        wd.wait("a slice event in the feed", "return !!document.querySelector('#events li[data-type=\"slice_updated\"]')")
        if wd.js("return window.__noReload") != marker:
            fail("the page reloaded")
        wd.screenshot(os.path.join(artifacts, "dashboard-desktop.png"))

        # The peer dies (kill -9): it is shown as gone, and so is its slice.
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=10)
        killed = time.time()
        wd.wait("the peer as left", PEER_IS, b.info["device"], "left")
        wd.wait("the peer's slice removed", SLICE_GONE, "sensors", b.info["device"])
        wd.wait("peer_left in the feed", "return !!document.querySelector('#events li[data-type=\"peer_left\"]')")
        print("peer death shown after %.2f s" % (time.time() - killed), flush=True)
        wd.screenshot(os.path.join(artifacts, "dashboard-peer-killed.png"))

        # Phone size: still one readable column (cards, no horizontal scrolling).
        wd.resize(390, 844)
        wd.wait("the phone layout", "return window.innerWidth <= 400")
        overflow = wd.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            fail("the phone layout scrolls sideways by %d px" % overflow)
        wd.screenshot(os.path.join(artifacts, "dashboard-phone.png"))

        errors = [e for e in wd.browser_log() if e.get("level") == "SEVERE"]
        if errors:
            fail("JavaScript errors: %s" % errors)
        print("PASS")
        return 0
    finally:
        if wd:
            try:
                wd.quit()
            except SystemExit:
                pass
        if driver_proc:
            driver_proc.terminate()
            try:
                driver_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                driver_proc.kill()
        for d in procs:
            if d.proc.poll() is None:
                d.proc.send_signal(signal.SIGTERM)
                try:
                    code = d.proc.wait(timeout=15)
                    if code != 0:
                        print("daemon %s exited %d" % (d.dir, code))
                except subprocess.TimeoutExpired:
                    d.proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
