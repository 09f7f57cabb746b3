"""``cimsim app``: serve the Solara page with the venv's ``solara`` command."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path


def solara_command(host: str, port: int, production: bool = True) -> list[str]:
    """The command line that serves ``cimsim.app`` with solara on ``host:port``."""
    exe = Path(sys.executable).with_name("solara")
    solara = str(exe) if exe.exists() else shutil.which("solara")
    base = [solara] if solara else [sys.executable, "-m", "solara"]
    cmd = [*base, "run", "cimsim.app", "--host", host, "--port", str(port)]
    if production:
        cmd.append("--production")
    return cmd


def cmd_app(args: argparse.Namespace) -> int:
    """Run the Solara server until it stops (or Ctrl+C); return its exit code."""
    cmd = solara_command(args.host, int(args.port))
    print(f"cimsim: serving the app on http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    proc = subprocess.Popen(cmd, env={**os.environ, "SOLARA_APP": "cimsim.app"})
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
