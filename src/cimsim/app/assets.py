"""Solara's browser assets, served from this machine: ``python -m cimsim.app.assets``.

Solara's page template loads its front-end bundles through the server's CDN proxy, which
serves them from ``<venv>/share/solara/cdn`` and fetches a missing one from
cdn.jsdelivr.net. ``solara-assets`` (a dependency) fills most of that folder; running
this module adds any bundle the installed Solara's template still needs, fetched from the
npm registry with ``npm pack``, so the app makes no outbound request. ``./run`` runs it
after installing; ``cimsim app`` warns when a bundle is missing. Safe to run again (it only
fetches what is missing). The app's own components avoid ``solara.Markdown``, which would
pull KaTeX and mermaid from the CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def needed_packages() -> list[str]:
    """``name@version`` of every package the Solara page template loads from the CDN."""
    import solara.server

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    refs = re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/", template.read_text())
    return sorted(set(refs))


def cache_folder() -> Path:
    """Where Solara's CDN proxy looks for assets before it fetches them."""
    from solara.server.settings import assets

    return Path(assets.proxy_cache_dir)


def missing_bundles() -> list[str]:
    """The template's bundles (``name@version``) not in the proxy's cache folder."""
    cache = cache_folder()
    return [p for p in needed_packages() if not (cache / p).is_dir()]


def main() -> int:
    """Fetch the missing bundles; return 0 when everything is in place."""
    cache = cache_folder()
    missing = missing_bundles()
    if not missing:
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(f"solara assets missing and npm not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    for spec in missing:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [npm, "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True
            )
            tarballs = list(Path(tmp).glob("*.tgz"))
            if out.returncode != 0 or not tarballs:
                print(f"could not fetch {spec}: {out.stderr.strip()[:200]}", file=sys.stderr)
                return 1
            target = cache / spec
            staging = Path(tmp) / "unpacked"
            with tarfile.open(tarballs[0]) as tar:
                tar.extractall(staging, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staging / "package"), str(target))
            print(f"fetched {spec} into {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
