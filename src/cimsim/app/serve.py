"""``cimsim app``: serve the Solara page with the venv's ``solara`` command."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cimsim.app import assets
from cimsim.errors import UserError

SERVER_LIMITS = {
    "SOLARA_KERNEL_CULL_TIMEOUT": "2m",  # a closed tab's session (and model) goes after 2 min
    "SOLARA_KERNEL_MAX_PER_SESSION": "8",  # tabs one browser may open
}
"""Solara server settings that bound memory (the environment may override them)."""


def solara_command(host: str, port: int, production: bool = True) -> list[str]:
    """The command line that serves ``cimsim.app`` with solara on ``host:port``."""
    exe = Path(sys.executable).with_name("solara")
    solara = str(exe) if exe.exists() else shutil.which("solara")
    base = [solara] if solara else [sys.executable, "-m", "solara"]
    cmd = [*base, "run", "cimsim.app", "--host", host, "--port", str(port)]
    if production:
        cmd.append("--production")
    return cmd


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` is already taken (so the server could not bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_app(args: argparse.Namespace) -> int:
    """Run the Solara server until it stops (Ctrl+C or SIGTERM); return its exit code."""
    host, port = args.host, int(args.port)
    missing = assets.missing_bundles()
    if missing:
        print(
            f"cimsim: warning: Solara's browser bundles {', '.join(missing)} are not on this "
            "machine; the server will fetch them from cdn.jsdelivr.net "
            "(`python -m cimsim.app.assets` installs them)",
            file=sys.stderr,
        )
    if port_in_use(host, port):
        raise UserError(f"port {port} on {host} is in use; stop what holds it or use --port")
    if not is_loopback(host):
        print(
            f"cimsim: warning: --host {host} makes the app reachable from the network; "
            "anyone who can reach this machine can use it (it has no login)",
            file=sys.stderr,
        )
    cmd = solara_command(host, port)
    print(f"cimsim: serving the app on http://{host}:{port}/ (Ctrl+C to stop)")
    env = {**SERVER_LIMITS, **os.environ, "SOLARA_APP": "cimsim.app"}
    env["SOLARA_KERNEL_MAX_COUNT"] = str(args.max_sessions)
    proc = subprocess.Popen(cmd, env=env)

    def stop(signum: int, frame: object) -> None:  # SIGTERM: shut the server down cleanly
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
