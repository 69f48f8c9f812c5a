import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { EngineStatus } from "../bindings/EngineStatus";
import { EngineReport } from "./EnginePanel";

const model = (name: string, state: string, detail: string | null = null) => ({
  name, purpose: "", package: "rapidocr==3.10.0", license: "Apache-2.0", path: `/m/${name}.onnx`, state, detail,
}) as EngineStatus["models"][number];

function shown(status: EngineStatus): HTMLElement {
  const el = document.createElement("div");
  render(<EngineReport status={status} />, el);
  return el;
}

describe("EngineReport", () => {
  it("shows the provider and each model", () => {
    const el = shown({
      available: true, engine_version: "engine 0.1.0", provider: "CPUExecutionProvider",
      provider_note: "an NVIDIA GPU is present but the GPU runtime is not installed", workers: 1, threads_per_worker: 2,
      cpu: "AMD EPYC 7B12 [avx2; int8: AVX2 without VNNI]", runtime_library: "/m/libonnxruntime.so", models_dir: "/m",
      models: [model("ocr-det", "ok"), model("onnxruntime-gpu", "not_installed", "optional")], error: null,
    });
    expect(el.querySelector("#engine-summary")?.textContent).toBe("Available on CPUExecutionProvider");
    expect(el.querySelector("#provider-note")?.textContent).toContain("GPU runtime is not installed");
    expect(el.querySelector("#engine-workers")?.textContent).toBe("1 worker × 2 threads, sessions created once and reused");
    expect(el.querySelector("#engine-cpu")?.textContent).toBe("CPU: AMD EPYC 7B12 [avx2; int8: AVX2 without VNNI]");
    expect(el.querySelector(".optional-models tr[data-model=\"onnxruntime-gpu\"]")).not.toBeNull();
    expect(el.querySelector('tr[data-model="ocr-det"]')?.textContent).toContain("rapidocr==3.10.0");
  });
  it("says why the engine is unavailable", () => {
    const el = shown({
      available: false, engine_version: "engine 0.1.0", provider: null, provider_note: null, workers: 0,
      threads_per_worker: 0, cpu: "unknown [no AVX2; int8: SSE]", runtime_library: "", models_dir: "/m",
      models: [model("category", "corrupt", "sha256 abc, expected def")], error: "category is corrupt",
    });
    expect(el.querySelector("#engine-summary")?.textContent).toBe("Unavailable: category is corrupt");
    expect(el.querySelector('tr[data-model="category"]')?.textContent).toContain("corrupt: sha256 abc");
  });
});
