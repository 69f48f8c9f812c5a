#!/usr/bin/env python3
"""Copies the models and native runtimes an installer carries (every entry of
models/manifest.toml that is not optional) from the models folder into DEST, checking each
file's sha256 against the manifest on the way: a bundle never ships a file the app would refuse,
and never silently leaves one out.

    python3 scripts/stage_models.py MODELS_DIR DEST
"""
import hashlib
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, dest = Path(sys.argv[1]), Path(sys.argv[2])
    manifest = tomllib.loads((ROOT / "models/manifest.toml").read_text())
    if dest.exists():
        shutil.rmtree(dest)
    total = 0
    for entry in manifest["model"]:
        if entry.get("optional"):
            continue
        src = source / entry["file"]
        if not src.is_file():
            print(f"stage_models: {entry['name']} is missing: {src} (run python3 models/fetch.py)", file=sys.stderr)
            return 1
        actual = sha256(src)
        if actual != entry["sha256"]:
            print(f"stage_models: {entry['name']} is corrupt: {src} has sha256 {actual}, the manifest says {entry['sha256']}",
                  file=sys.stderr)
            return 1
        target = dest / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        total += target.stat().st_size
        print(f"stage_models: {entry['file']} ({target.stat().st_size / 1e6:.1f} MB, sha256 ok)")
    print(f"stage_models: {total / 1e6:.0f} MB in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
