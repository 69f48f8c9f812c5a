#!/usr/bin/env python3
"""Static int8 (QDQ) version of the PP-OCRv6 small text detector, for the CPU.

    python quantize_ocr_det.py FP32_DET.onnx OUT.onnx                 # what models/fetch.py runs
    python quantize_ocr_det.py FP32_DET.onnx OUT.onnx --calibrate DIR # refresh the ranges
    python quantize_ocr_det.py FP32_DET.onnx OUT.onnx --weights s8     # a studied alternative

The activation ranges are committed (ocr_det_int8_calibration.json, next to this file), so the
conversion needs no calibration data and is deterministic for the pinned onnx/onnxruntime of
models/requirements.txt: the output's sha256 is in manifest.toml.

Steps, each deterministic:
1. onnxruntime.quantization.quant_pre_process without symbolic shape inference (it fails on
   this Paddle export), then opset 11 -> 13 (per-channel DequantizeLinear needs `axis`).
2. "Pre-fuse": the model as ORT optimizes it at ORT_ENABLE_EXTENDED, with the fusions that would
   hide Conv from the quantizer switched off, so activations fuse the same way at run time.
3. quantize_static: QDQ, per-channel int8 weights in 7 bits (`reduce_range`), uint8
   activations, MinMax ranges read from the committed calibration cache.

Why 7-bit weights: on CPUs without VNNI (AVX2, or AVX-512 without VNNI) ONNX Runtime multiplies
u8 activations by s8 weights with `vpmaddubsw`, which adds each pair of products into a
saturating 16-bit lane: 255 × 127 × 2 overflows it, 255 × 64 × 2 does not. With full 8-bit
weights such a CPU read receipts differently (lines lost) from a VNNI one; with 7-bit weights
the detector's output is bit-identical on both (measured on an emulated AVX2 EPYC against
AVX-512 VNNI: BENCHMARKS.md, "OCR on any CPU"), at the same speed. U8U8 is exact too but
slower on VNNI CPUs, S8S8 is slower everywhere.

`--calibrate DIR` recomputes the cache from DIR/det_*.npy, the detector inputs captured by
`tools/ocr/quantize_static.py calib` (synthetic receipt/invoice pages and photographed print,
never the SROIE evaluation receipts). Measured effect: BENCHMARKS.md, "OCR".
"""
import argparse
import glob
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "ocr_det_int8_calibration.json")
NO_FUSE = ["ConvActivationFusion", "ConvAddActivationFusion", "MatMulActivationFusion",
           "MatmulTransposeFusion", "MatMulScaleFusion", "GemmActivationFusion",
           "GemmTransposeFusion", "GemmSumFusion"]


class NpyReader:
    """Feeds the captured detector inputs to the calibrator."""

    def __init__(self, files, name):
        self.files, self.name, self.i = files, name, 0

    def get_next(self):
        import numpy as np
        if self.i >= len(self.files):
            return None
        self.i += 1
        return {self.name: np.load(self.files[self.i - 1])}

    def rewind(self):
        self.i = 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("source")
    p.add_argument("output")
    p.add_argument("--calibrate", metavar="DIR", help="recompute the committed ranges from DIR/det_*.npy")
    # The shipped model is the default; the others are for tools/ocr/det_int8_cpus.py's study.
    p.add_argument("--weights", choices=["s8-7bit", "s8", "u8"], default="s8-7bit",
                   help="per-channel weights: int8 in 7 bits (shipped), full int8, or uint8")
    p.add_argument("--activations", choices=["u8", "s8"], default="u8")
    a = p.parse_args()

    import onnx
    import onnx.version_converter
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="quantize-ocr-det.") as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        # quant_pre_process writes helper files into the working directory on failure
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            quant_pre_process(a.source, pre, skip_symbolic_shape=True)
        finally:
            os.chdir(cwd)
        model = onnx.load(pre)
        if model.opset_import[0].version < 13:
            onnx.save(onnx.version_converter.convert_version(model, 13), pre)

        fused = os.path.join(tmp, "fused.onnx")
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.optimized_model_filepath = fused
        so.intra_op_num_threads = 1
        ort.InferenceSession(pre, so, providers=["CPUExecutionProvider"], disabled_optimizers=NO_FUSE)

        reader = None
        if a.calibrate:
            files = sorted(glob.glob(os.path.join(a.calibrate, "det_*.npy")))
            if not files:
                sys.exit(f"no det_*.npy in {a.calibrate}")
            reader = NpyReader(files, onnx.load(fused).graph.input[0].name)
            if os.path.exists(CACHE):
                os.remove(CACHE)
        elif not os.path.exists(CACHE):
            sys.exit(f"missing {CACHE}: run with --calibrate DIR first")

        quantized = os.path.join(tmp, "int8.onnx")
        quantize_static(fused, quantized, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8 if a.activations == "u8" else QuantType.QInt8,
                        weight_type=QuantType.QUInt8 if a.weights == "u8" else QuantType.QInt8,
                        reduce_range=a.weights == "s8-7bit",
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"MatMulConstBOnly": True, "CalibMaxIntermediateOutputs": 8},
                        calibration_cache_path=CACHE)
        q = onnx.load(quantized)
        del q.metadata_props[:]
        for prop in onnx.load(a.source).metadata_props:
            q.metadata_props.add(key=prop.key, value=prop.value)
        q.doc_string = "PP-OCRv6 small detector, static int8 (QDQ) by models/quantize_ocr_det.py"
        onnx.save(q, a.output)


if __name__ == "__main__":
    main()
