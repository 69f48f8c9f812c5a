import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { AppInfo } from "../bindings/AppInfo";
import type { EngineStatus } from "../bindings/EngineStatus";
import { AboutBody } from "./About";

const info = { version: "0.1.0", engine_version: "engine 0.1.0", data_dir: "/home/ana/.local/share/review-station" } as AppInfo;
const model = (name: string, state: string) => ({
  name, purpose: "", package: `rapidocr==3.10.0 (${name})`, license: "Apache-2.0", path: `/m/${name}.onnx`, state, detail: null,
}) as EngineStatus["models"][number];
const engine = {
  available: true, engine_version: "engine 0.1.0", provider: "CPUExecutionProvider", provider_note: null, workers: 1,
  threads_per_worker: 2, cpu: "x", runtime_library: "/usr/lib/review-station/libonnxruntime.so.1.22.0", models_dir: "/m",
  models: [model("ocr-det", "ok"), model("category", "corrupt"), model("onnxruntime-gpu", "not_installed")], error: null,
} as EngineStatus;

function shown(props: Parameters<typeof AboutBody>[0]["shown"]): HTMLElement {
  const el = document.createElement("div");
  render(<AboutBody shown={props} />, el);
  return el;
}

describe("About", () => {
  it("names the app, engine, runtime and every installed model's version", () => {
    const el = shown({ info, engine, engineError: null });
    expect(el.querySelector("#about-version")?.textContent).toBe("Review Station 0.1.0");
    expect(el.querySelector("#about-engine")?.textContent).toBe("engine 0.1.0");
    expect(el.querySelector("#about-runtime")?.textContent).toBe("/usr/lib/review-station/libonnxruntime.so.1.22.0 (CPUExecutionProvider)");
    expect(el.querySelector('tr[data-model="ocr-det"]')?.textContent).toContain("rapidocr==3.10.0 (ocr-det)");
    // a damaged model is still named (its version is what support asks for); an optional one not installed is not
    expect(el.querySelector('tr[data-model="category"]')).not.toBeNull();
    expect(el.querySelector('tr[data-model="onnxruntime-gpu"]')).toBeNull();
  });
  it("still shows the app's version when the engine cannot be asked", () => {
    const el = shown({ info, engine: null, engineError: "the engine did not answer" });
    expect(el.querySelector("#about-version")?.textContent).toBe("Review Station 0.1.0");
    expect(el.querySelector("#about-runtime")?.textContent).toBe("the engine did not answer");
    expect(el.querySelector("#about-models")).toBeNull();
  });
  it("says why nothing could be read", () => {
    const el = shown({ error: "the station is not answering" });
    expect(el.querySelector('[role="alert"]')?.textContent).toBe("the station is not answering");
  });
});
