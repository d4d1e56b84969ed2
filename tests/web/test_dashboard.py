#!/usr/bin/env python3
"""The dashboard in headless Chromium against a real two-node mesh (docs/HTTP.md, docs/TESTING.md).

Starts two `meshslice up` daemons on 127.0.0.1 (static peers, no mDNS), opens the dashboard of
the first in Debian's chromium through chromedriver (WebDriver over HTTP on 127.0.0.1), and checks
that it loads, shows this device and the peer, follows a slice change and the peer's death (kill
-9) live over the WebSocket, and logs no JavaScript errors. Screenshots (desktop and phone size)
are kept in <build>/test-artifacts/ for a person to look at.

Usage: test_dashboard.py <build-dir>. Exit 0 pass, 1 fail, 77 skip (no chromium/chromedriver).
"""
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Daemon, fail, run, start_driver, stop_all, tools_missing  # noqa: E402

PEER_IS = ("const r = document.querySelector('[data-peer=\"' + arguments[0] + '\"]');"
           " return !!r && r.dataset.state === arguments[1];")
SLICE_ROW = "const r = document.querySelector('#stores [data-store=\"' + arguments[0] + '\"] tr[data-device=\"' + arguments[1] + '\"]');"
SLICE_HAS = SLICE_ROW + " return !!r && r.innerText.includes(arguments[2]);"
SLICE_GONE = SLICE_ROW + " return r === null;"


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = os.path.join(os.environ.get("MESHSLICE_BIN_DIR", build), "meshslice")
    if tools_missing():
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

        driver_proc, wd = start_driver(root + "/profile")

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

        wd.expect_no_script_errors()
        print("PASS")
        return 0
    finally:
        stop_all(wd, driver_proc, procs)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
