#!/usr/bin/env python3
"""The JavaScript client's example app (clients/js/example) in headless Chromium: React with
useSyncedStore, served from another origin than the daemon (so CORS and the Origin rule with
--http-origin are exercised by a real browser), against a real two-node mesh. It shares a note,
shows the peer's note when the peer sets it and drops it when the peer is killed.

Usage: test_example.py <build-dir>. Exit 0 pass, 1 fail, 77 skip (no chromium/chromedriver/node,
or clients/js/node_modules missing: `npm ci` in clients/js first).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Daemon, fail, free_port, run, start_driver, stop_all, tools_missing  # noqa: E402

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "js")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = os.path.join(os.environ.get("MESHSLICE_BIN_DIR", build), "meshslice")
    node = shutil.which("node")
    if tools_missing() or not node:
        print("SKIP: chromium, chromedriver and node are needed (scripts/deps.sh web)")
        return 77
    if not os.path.exists(os.path.join(JS, "node_modules", "react", "umd", "react.production.min.js")):
        print("SKIP: run `npm ci` in clients/js first")
        return 77
    artifacts = os.path.join(build, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    root = tempfile.mkdtemp(prefix="ms-example-")
    daemons, server, driver_proc, wd = [], None, None, None
    try:
        port = free_port()
        origin = "http://127.0.0.1:%d" % port
        a = Daemon(binary, root + "/a", ["--http", "127.0.0.1:0", "--http-origin", origin])
        daemons.append(a)
        if run(binary, "mesh", "join", a.info["invite"], "--state-dir", root + "/b").returncode != 0:
            fail("mesh join")
        b = Daemon(binary, root + "/b", ["--peer", a.info["listen"]])
        daemons.append(b)
        server = subprocess.Popen([node, os.path.join(JS, "example", "serve.mjs"), str(port)],
                                  stdout=subprocess.PIPE, text=True)
        if "example app on" not in server.stdout.readline():
            fail("the example server did not start")
        token = run(binary, "http", "token", "--state-dir", a.dir).stdout.strip()
        driver_proc, wd = start_driver(root + "/profile")
        wd.go("%s/#api=http://%s&token=%s" % (origin, a.info["http"], token))
        wd.wait("the hook connected", "const s = document.getElementById('status'); return !!s && s.textContent === 'live'")

        # Share a note from the page: it lands in this device's slice.
        wd.js("const t = document.getElementById('mine');"
              "const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;"
              "set.call(t, 'hello from the browser'); t.dispatchEvent(new Event('input', {bubbles: true}));")
        wd.js("document.getElementById('save').click()")
        deadline = time.time() + 15
        while "hello from the browser" not in run(binary, "get", "notes", a.info["device"], "--state-dir", a.dir).stdout:
            if time.time() > deadline:
                fail("the note never reached the daemon")
            time.sleep(0.1)  # polling another process: nothing to wait on

        # The peer writes: the page shows it; the peer dies: the page drops it.
        if run(binary, "set", "notes", '{"text": "hi from b"}', "--state-dir", b.dir).returncode != 0:
            fail("set on b")
        note = "const n = document.querySelector('[data-device=\"' + arguments[0] + '\"] .text');"
        wd.wait("b's note", note + " return !!n && n.textContent === 'hi from b'", b.info["device"])
        wd.screenshot(os.path.join(artifacts, "example-app.png"))
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=10)
        wd.wait("b's note gone", "return !document.querySelector('[data-device=\"' + arguments[0] + '\"]')", b.info["device"])
        wd.expect_no_script_errors()
        print("PASS")
        return 0
    finally:
        stop_all(wd, driver_proc, daemons)
        if server:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
