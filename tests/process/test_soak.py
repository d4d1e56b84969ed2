"""CI soak (a short tests/process/soak.py run): 5 nodes, updates and restarts, RSS and fds flat
after warm-up, exact convergence at the end. MESHSLICE_SOAK_SECONDS sets the length (default
120); under sanitizers (ASAN_OPTIONS set) it runs 30 s and checks fds only, because ASan's
quarantine makes RSS grow by design. Hours-long runs: scripts/soak.sh --minutes M.
Usage: test_soak.py <path to mesh_demo>."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    sanitized = "ASAN_OPTIONS" in os.environ
    seconds = os.environ.get("MESHSLICE_SOAK_SECONDS", "30" if sanitized else "120")
    cmd = [sys.executable, os.path.join(HERE, "soak.py"), sys.argv[1], "--seconds", seconds,
           "--restart-every", "10"]
    if sanitized:
        cmd.append("--no-rss")
    sys.exit(subprocess.run(cmd, timeout=float(seconds) + 120).returncode)
