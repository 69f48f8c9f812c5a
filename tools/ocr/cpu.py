"""The processor a benchmark ran on, printed beside every OCR figure.

ONNX Runtime's int8 kernels differ by instruction set (VNNI sums u8 x s8 products exactly; AVX2
and AVX-512 without VNNI go through a saturating 16-bit lane), so a number means little without
the CPU it came from. Same wording as the Rust side (`engine::cpu::CpuInfo`):

    AMD EPYC 9R14 96-Core Processor [avx2 avx512f avx512bw avx512vnni avxvnni; int8: VNNI]

It reads /proc/cpuinfo, which qemu-user does not emulate: under `qemu-x86_64 -cpu MODEL` it
still names the host (the Rust side asks CPUID and sees the emulated model).
"""

# /proc/cpuinfo's flag names, as engine::cpu names them
FLAGS = {"avx2": "avx2", "avx512f": "avx512f", "avx512bw": "avx512bw",
         "avx512_vnni": "avx512vnni", "avx_vnni": "avxvnni"}


def describe(cpuinfo="/proc/cpuinfo"):
    model, flags = "unknown", set()
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip() or model
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    have = [ours for theirs, ours in FLAGS.items() if theirs in flags]
    if "avx512vnni" in have or "avxvnni" in have:
        path = "VNNI"
    elif "avx512bw" in have:
        path = "AVX-512 without VNNI"
    elif "avx2" in have:
        path = "AVX2 without VNNI"
    else:
        path = "SSE"
    return f"{model} [{' '.join(have) or 'no AVX2'}; int8: {path}]"


if __name__ == "__main__":
    print(describe())
