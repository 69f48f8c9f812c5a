import { describe, expect, it } from "vitest";
import { renderEngine } from "./engine-panel";

const model = (name: string, state: string, detail: string | null = null) => ({
  name, purpose: "", package: "rapidocr==3.10.0", license: "Apache-2.0", path: `/m/${name}.onnx`, state, detail,
});

describe("renderEngine", () => {
  it("shows the provider and each model", () => {
    const el = renderEngine({
      available: true, engine_version: "engine 0.1.0", provider: "CPUExecutionProvider",
      runtime_library: "/m/libonnxruntime.so", models_dir: "/m", models: [model("ocr-det", "ok")], error: null,
    });
    expect(el.querySelector("#engine-summary")?.textContent).toBe("Available on CPUExecutionProvider");
    expect(el.querySelector('tr[data-model="ocr-det"]')?.textContent).toContain("rapidocr==3.10.0");
  });
  it("says why the engine is unavailable", () => {
    const el = renderEngine({
      available: false, engine_version: "engine 0.1.0", provider: null, runtime_library: "", models_dir: "/m",
      models: [model("category", "corrupt", "sha256 abc, expected def")], error: "category is corrupt",
    });
    expect(el.querySelector("#engine-summary")?.textContent).toBe("Unavailable: category is corrupt");
    expect(el.querySelector('tr[data-model="category"]')?.textContent).toContain("corrupt: sha256 abc");
  });
});
