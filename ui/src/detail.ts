// The item view: the photo (or the document's page) with zoom and the text overlay, the gate
// figures against thresholds, verdict, reasons and retake suggestions, the category verdict, the
// text — or the specific error for a file that could not be analyzed.
import { blobUrl, pageUrl, thumbUrl } from "./api";
import type { Evidence } from "./bindings/Evidence";
import { FieldsPanel } from "./fields-panel";
import type { ItemDetail } from "./bindings/ItemDetail";
import type { StoresInfo } from "./bindings/StoresInfo";
import { categoryPanel } from "./category-panel";
import { h } from "./dom";
import { Overlay, TextPanel } from "./text-panel";
import { visibleRange } from "./virtual-list";
import {
  CHECK_LABELS, REASON_LABELS, STATE_LABELS, formatBytes, formatDate, formatThreshold, formatValue, itemState,
} from "./format";

const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

export function emptyDetail(): HTMLElement {
  return h("div", { class: "empty" },
    h("p", {}, "Drop photos, PDFs or folders anywhere in this window, or use Open photos…"),
    h("p", { class: "muted" }, "JPEG, PNG, WebP and PDF. Each photo gets a quality verdict at once, with no network."));
}

interface Viewer {
  element: HTMLElement;
  img: HTMLImageElement;
  frame: HTMLElement;
  toolbar: HTMLElement;
  step: (direction: 1 | -1) => void;
}

/** Zoomable photo viewer. `fit` scales the photo into the frame; otherwise `zoom` × natural size. */
function photoViewer(src: string, alt: string): Viewer {
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
  return { element: viewer, img, frame, toolbar, step };
}

/** What the main window needs of the item shown: its element, its keys, and clean-up. */
export interface DetailView {
  element: HTMLElement;
  /** Handles a key for this item; returns true when it did. */
  key: (event: KeyboardEvent) => boolean;
  dispose: () => void;
}

function staticView(element: HTMLElement): DetailView {
  return { element, key: () => false, dispose: () => undefined };
}

export function renderDetail(detail: ItemDetail, stores: StoresInfo | null = null): DetailView {
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

  if (state === "error" || !item.blob_sha256) {
    return staticView(h("article", { class: "detail", "data-item-id": item.id },
      header,
      h("div", { class: "item-error", role: "alert" },
        h("strong", {}, "Could not analyze this file: "), item.error_message ?? "unknown error",
        h("code", { class: "error-code" }, item.error_code ?? "")),
      facts));
  }

  const sha = item.blob_sha256;
  const isDocument = item.kind === "document";
  const pageCount = Math.max(1, item.page_count ?? 1);
  let page = 1;
  const viewer = photoViewer(isDocument ? pageUrl(sha, 1) : blobUrl(sha), item.file_name);
  let text: TextPanel | null = null;
  const overlay = new Overlay(viewer.img, (index) => text?.highlightLine(index));
  viewer.frame.append(overlay.svg);
  text = new TextPanel({ itemId: item.id, overlay, automatic: isDocument });
  const evidence = new Overlay(viewer.img, () => undefined);
  evidence.svg.classList.add("evidence-overlay");
  viewer.frame.append(evidence.svg);
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
      h("h3", { id: "gate-profile", "data-profile": quality.profile },
        quality.profile === "document" ? "Quality gate — judged as a page (receipt, invoice)" : "Quality gate"),
      h("table", { class: "checks" },
        h("thead", {}, h("tr", {}, h("th", {}, "Check"), h("th", {}, "Measured"), h("th", {}, "Threshold"), h("th", {}, "Verdict"))),
        h("tbody", {}, ...rows)),
      h("p", { class: "muted small" },
        `Measured on a ${quality.working_width}×${quality.working_height} working image (JPEG decoded at ${quality.decode_scale}). ` +
        `Clipped highlights ${(quality.highlight_share * 100).toFixed(1)} %, deep shadows ${(quality.shadow_share * 100).toFixed(1)} %.`)));
  }
  if (!isDocument) sections.push(categoryPanel(item.id, detail.category, stores));
  const showEvidence = (target: number, boxes: Evidence[], size: { width: number; height: number } | null) => {
    goTo(target);
    const width = size?.width ?? viewer.img.naturalWidth;
    const height = size?.height ?? viewer.img.naturalHeight;
    evidence.showBoxes(width, height, boxes.map((b) => ({ polygon: b.polygon, title: b.text })));
    viewer.frame.querySelector(".evidence-box")?.scrollIntoView({ block: "center", inline: "nearest" });
  };
  const fields = new FieldsPanel({ itemId: item.id, showEvidence });
  sections.push(fields.element);
  sections.push(text.element);

  const pageLabel = h("span", { class: "page-label" }, `Page 1 of ${pageCount}`);
  const thumbs = isDocument ? thumbStrip(sha, pageCount, (n) => goTo(n)) : null;
  function goTo(next: number): void {
    evidence.showBoxes(1, 1, []);
    if (next < 1 || next > pageCount || next === page) return;
    page = next;
    pageLabel.textContent = `Page ${page} of ${pageCount}`;
    viewer.img.src = pageUrl(sha, page);
    text?.load(page);
    thumbs?.select(page);
  }
  if (isDocument) {
    const nav = (label: string, title: string, delta: number) => {
      const b = h("button", { title, class: delta < 0 ? "page-prev" : "page-next" }, label);
      b.addEventListener("click", () => goTo(page + delta));
      return b;
    };
    viewer.toolbar.append(h("span", { class: "page-nav" },
      nav("◀", "Previous page (PageUp, [)", -1), pageLabel, nav("▶", "Next page (PageDown, ])", 1)));
  }
  text.load(1);

  const element = h("article", { class: "detail", "data-item-id": item.id, "data-kind": item.kind },
    header,
    h("div", { class: "detail-body" }, thumbs?.element ?? null, viewer.element, h("div", { class: "detail-side" }, ...sections, facts)));
  const key = (event: KeyboardEvent): boolean => {
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    switch (event.key) {
      case "+": case "=": viewer.step(1); return true;
      case "-": viewer.step(-1); return true;
      case "t": void text?.read(false); return true;
      case "b": text?.toggleBoxes(); return true;
      case "c": void text?.copy(); return true;
      case "e": void fields.extract(); return true;
      case "n": fields.nextDoubtful(); return true;
      case "PageDown": case "]": goTo(page + 1); return isDocument;
      case "PageUp": case "[": goTo(page - 1); return isDocument;
      default: return false;
    }
  };
  return { element, key, dispose: () => { text?.cancel(); fields.dispose(); overlay.dispose(); evidence.dispose(); thumbs?.dispose(); } };
}

const THUMB_ROW = 132;

/** The pages as small images, windowed: only the visible thumbnails exist (a PDF may have 2000). */
function thumbStrip(sha: string, pageCount: number, open: (page: number) => void) {
  const inner = h("div", { class: "thumbs-inner" });
  inner.style.height = `${pageCount * THUMB_ROW}px`;
  const element = h("nav", { class: "thumbs", "aria-label": "Pages" }, inner);
  let selected = 1;
  const render = () => {
    const range = visibleRange(element.scrollTop, element.clientHeight || 600, THUMB_ROW, pageCount, 3);
    const nodes: HTMLElement[] = [];
    for (let i = range.start; i < range.end; i++) {
      const n = i + 1;
      const button = h("button", { class: `thumb${n === selected ? " selected" : ""}`, "data-page": n, title: `Page ${n}` },
        h("img", { src: thumbUrl(sha, n), alt: `Page ${n}`, loading: "lazy", draggable: "false" }),
        h("span", { class: "thumb-number" }, String(n)));
      button.style.top = `${i * THUMB_ROW}px`;
      nodes.push(button);
    }
    inner.replaceChildren(...nodes);
  };
  element.addEventListener("scroll", render, { passive: true });
  element.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>(".thumb");
    if (button) open(Number(button.dataset.page));
  });
  const observer = new ResizeObserver(render);
  observer.observe(element);
  render();
  return {
    element,
    select(page: number) {
      selected = page;
      const top = (page - 1) * THUMB_ROW;
      if (top < element.scrollTop || top + THUMB_ROW > element.scrollTop + element.clientHeight) {
        element.scrollTop = top - element.clientHeight / 2 + THUMB_ROW / 2;
      }
      render();
    },
    dispose() { observer.disconnect(); },
  };
}
