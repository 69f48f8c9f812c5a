// The item view: the photo with zoom, the gate figures against thresholds, verdict, reasons
// and retake suggestions, or the specific error for a file that could not be analyzed.
import { blobUrl } from "./api";
import type { ItemDetail } from "./bindings/ItemDetail";
import { h } from "./dom";
import {
  CHECK_LABELS, REASON_LABELS, STATE_LABELS, formatBytes, formatDate, formatThreshold, formatValue, itemState,
} from "./format";

const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

export function emptyDetail(): HTMLElement {
  return h("div", { class: "empty" },
    h("p", {}, "Drop photos or folders anywhere in this window, or use Open photos…"),
    h("p", { class: "muted" }, "JPEG, PNG and WebP. Each photo gets a quality verdict at once, with no network."));
}

/** Zoomable photo viewer. `fit` scales the photo into the frame; otherwise `zoom` × natural size. */
function photoViewer(src: string, alt: string): HTMLElement {
  const img = h("img", { src, alt, class: "photo", draggable: "false" });
  const frame = h("div", { class: "photo-frame fit" }, img);
  const label = h("span", { class: "zoom-label muted" }, "Fit");
  let zoom = 1;
  let fit = true;
  const apply = () => {
    frame.classList.toggle("fit", fit);
    if (fit) {
      img.style.width = "";
      label.textContent = "Fit";
    } else {
      img.style.width = `${Math.round(img.naturalWidth * zoom)}px`;
      label.textContent = `${Math.round(zoom * 100)} %`;
    }
  };
  const currentScale = () => (fit ? img.clientWidth / Math.max(1, img.naturalWidth) : zoom);
  const step = (direction: 1 | -1) => {
    const scale = currentScale();
    const next = direction > 0 ? ZOOM_STEPS.find((z) => z > scale + 1e-3) : [...ZOOM_STEPS].reverse().find((z) => z < scale - 1e-3);
    if (next === undefined) return;
    zoom = next;
    fit = false;
    apply();
  };
  frame.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    step(event.deltaY < 0 ? 1 : -1);
  }, { passive: false });
  img.addEventListener("dblclick", () => {
    fit = !fit;
    zoom = 1;
    apply();
  });
  const button = (text: string, title: string, action: () => void) => {
    const b = h("button", { title }, text);
    b.addEventListener("click", action);
    return b;
  };
  const toolbar = h("div", { class: "zoom-bar" },
    button("−", "Zoom out (-)", () => step(-1)),
    button("+", "Zoom in (+)", () => step(1)),
    button("Fit", "Fit to frame (0)", () => { fit = true; apply(); }),
    button("100 %", "Actual pixels (1)", () => { fit = false; zoom = 1; apply(); }),
    label);
  const viewer = h("div", { class: "viewer" }, toolbar, frame);
  viewer.dataset.zoomable = "true";
  (viewer as HTMLElement & { zoomStep?: (d: 1 | -1) => void }).zoomStep = step;
  return viewer;
}

export function renderDetail(detail: ItemDetail): HTMLElement {
  const { item, quality, analysis } = detail;
  const state = itemState(item);
  const header = h("div", { class: "detail-head" },
    h("h2", { title: item.source_path }, item.file_name),
    h("span", { class: `verdict verdict-${state}` }, STATE_LABELS[state]));
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "Source"), h("dd", { class: "path" }, item.source_path),
    h("dt", {}, "Size"), h("dd", {}, `${formatBytes(item.byte_len)}${item.width ? ` · ${item.width}×${item.height} px` : ""}${item.format ? ` · ${item.format.toUpperCase()}` : ""}`),
    h("dt", {}, "Imported"), h("dd", {}, formatDate(item.created_at)),
    analysis ? h("dt", {}, "Engine") : null,
    analysis ? h("dd", {}, `${analysis.engine_version} · ${analysis.latency_ms.toFixed(1)} ms`) : null);

  if (state === "error") {
    return h("article", { class: "detail", "data-item-id": item.id },
      header,
      h("div", { class: "item-error", role: "alert" },
        h("strong", {}, "Could not analyze this file: "), item.error_message ?? "unknown error",
        h("code", { class: "error-code" }, item.error_code ?? "")),
      facts);
  }

  const viewer = item.blob_sha256 ? photoViewer(blobUrl(item.blob_sha256), item.file_name) : null;
  const sections: HTMLElement[] = [];
  if (quality) {
    if (quality.reasons.length > 0) {
      sections.push(h("section", { class: "reasons" },
        h("h3", {}, "Why it failed"),
        h("ul", {}, ...quality.reasons.map((r) => h("li", { class: "reason", "data-reason": r }, REASON_LABELS[r]))),
        h("h3", {}, "Retake"),
        h("ul", { class: "suggestions" }, ...quality.suggestions.map((s) => h("li", {}, s)))));
    }
    const rows = quality.checks.map((c) => h("tr", { class: c.passed ? "ok" : c.counted ? "bad" : "ignored", "data-check": c.check },
      h("td", {}, CHECK_LABELS[c.check]),
      h("td", { class: "num" }, formatValue(c.check, c.value)),
      h("td", { class: "num" }, formatThreshold(c)),
      h("td", {}, c.passed ? "✓ pass" : c.counted ? "✗ fail" : "— not counted")));
    sections.push(h("section", { class: "figures" },
      h("h3", {}, "Quality gate"),
      h("table", { class: "checks" },
        h("thead", {}, h("tr", {}, h("th", {}, "Check"), h("th", {}, "Measured"), h("th", {}, "Threshold"), h("th", {}, "Verdict"))),
        h("tbody", {}, ...rows)),
      h("p", { class: "muted small" },
        `Measured on a ${quality.working_width}×${quality.working_height} working image (JPEG decoded at ${quality.decode_scale}). ` +
        `Clipped highlights ${(quality.highlight_share * 100).toFixed(1)} %, deep shadows ${(quality.shadow_share * 100).toFixed(1)} %.`)));
  }
  return h("article", { class: "detail", "data-item-id": item.id },
    header,
    h("div", { class: "detail-body" }, viewer, h("div", { class: "detail-side" }, ...sections, facts)));
}
