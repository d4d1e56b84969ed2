"""Shared by the browser tests (tests/web/test_*.py): meshslice daemons on 127.0.0.1 and a small
WebDriver client for Debian's chromium + chromedriver (plain HTTP on 127.0.0.1)."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
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

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=15)
            if code != 0:
                print("daemon %s exited %d" % (self.dir, code))
        except subprocess.TimeoutExpired:
            self.proc.kill()


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

    def expect_no_script_errors(self):
        """Fails on errors of the page's scripts in the browser log. Network entries are left out:
        a 404 the page expects (the JS client's first read of a store not made yet) is one."""
        errors = [e for e in self.browser_log() if e.get("level") == "SEVERE" and e.get("source") != "network"]
        if errors:
            fail("JavaScript errors: %s" % errors)

    def quit(self):
        if self.session:
            self.call("DELETE", "/session/" + self.session)
            self.session = None


def tools_missing():
    return not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK))


def start_driver(profile):
    """chromedriver on a free loopback port with one headless session: (process, WebDriver)."""
    port = free_port()
    proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port, "--allowed-ips=127.0.0.1"],
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
    wd.start(profile)
    return proc, wd


def stop_all(wd, driver_proc, daemons):
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
    for d in daemons:
        d.stop()
