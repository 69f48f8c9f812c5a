// Text of a photo or a document page: boxes drawn over the image (hover: text and confidence),
// the lines beside it (hover or click highlights the box), copy, and OCR that shows its progress
// and can be cancelled.
import { api, errorMessage } from "./api";
import type { OcrPage } from "./bindings/OcrPage";
import { h } from "./dom";
import { formatConfidence, linesText, polygonPoints } from "./format";

const SVG = "http://www.w3.org/2000/svg";

/** Boxes over an image; kept aligned with the image's rendered box as it is zoomed or resized. */
export class Overlay {
  readonly svg: SVGSVGElement;
  private polygons: SVGPolygonElement[] = [];
  private readonly observer: ResizeObserver;

  constructor(private readonly img: HTMLImageElement, onHover: (index: number | null) => void) {
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "ocr-overlay");
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.svg.addEventListener("mouseover", (e) => {
      const index = (e.target as Element).getAttribute("data-line");
      onHover(index === null ? null : Number(index));
    });
    this.svg.addEventListener("mouseleave", () => onHover(null));
    this.observer = new ResizeObserver(() => this.align());
    this.observer.observe(img);
    img.addEventListener("load", () => this.align());
  }

  /** Places the overlay exactly over the image inside its (positioned, scrolling) frame. */
  align(): void {
    const { img, svg } = this;
    svg.style.left = `${img.offsetLeft}px`;
    svg.style.top = `${img.offsetTop}px`;
    svg.style.width = `${img.offsetWidth}px`;
    svg.style.height = `${img.offsetHeight}px`;
  }

  show(page: OcrPage | null): void {
    this.svg.replaceChildren();
    this.polygons = [];
    if (!page) return;
    this.svg.setAttribute("viewBox", `0 0 ${page.width} ${page.height}`);
    page.lines.forEach((line, index) => {
      const polygon = document.createElementNS(SVG, "polygon");
      polygon.setAttribute("points", polygonPoints(line.polygon));
      polygon.setAttribute("class", "ocr-box");
      polygon.setAttribute("data-line", String(index));
      const title = document.createElementNS(SVG, "title");
      title.textContent = `${line.text} — ${formatConfidence(line.confidence)}`;
      polygon.append(title);
      this.svg.append(polygon);
      this.polygons.push(polygon);
    });
    this.align();
  }

  /** Draws boxes given in the coordinates of a `width × height` page (evidence of a field). */
  showBoxes(width: number, height: number, boxes: { polygon: [number, number][]; title: string }[]): void {
    this.svg.replaceChildren();
    this.polygons = [];
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    for (const box of boxes) {
      const polygon = document.createElementNS(SVG, "polygon");
      polygon.setAttribute("points", polygonPoints(box.polygon));
      polygon.setAttribute("class", "evidence-box");
      const title = document.createElementNS(SVG, "title");
      title.textContent = box.title;
      polygon.append(title);
      this.svg.append(polygon);
      this.polygons.push(polygon);
    }
    this.align();
  }

  setVisible(visible: boolean): void {
    this.svg.classList.toggle("hidden", !visible);
  }

  highlight(index: number | null): void {
    this.polygons.forEach((p, i) => p.classList.toggle("active", i === index));
  }

  dispose(): void {
    this.observer.disconnect();
  }
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // WebKitGTK may refuse the async clipboard outside a user gesture: fall back to a selection.
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

export interface TextPanelOptions {
  itemId: number;
  overlay: Overlay;
  /** Documents read their text as soon as a page is shown (a text layer costs milliseconds). */
  automatic: boolean;
}

/** The side panel's "Text" section for one page; `load(page)` switches pages. */
export class TextPanel {
  readonly element: HTMLElement;
  private readonly status = h("p", { class: "text-status muted small", "aria-live": "polite" });
  private readonly list = h("ol", { class: "text-lines" });
  private readonly readButton = h("button", { class: "read-text", title: "Read the text (T)" }, "Read text");
  private readonly cancelButton = h("button", { class: "cancel-read", hidden: true }, "Cancel");
  private readonly copyButton = h("button", { class: "copy-text", title: "Copy all text (C)", disabled: true }, "Copy text");
  private readonly boxesToggle = h("input", { type: "checkbox", class: "show-boxes", checked: true });
  private page = 1;
  private result: OcrPage | null = null;
  private job: number | null = null;
  private request = 0;
  private timer: number | undefined;

  constructor(private readonly options: TextPanelOptions) {
    this.readButton.addEventListener("click", () => void this.read(this.result !== null));
    this.cancelButton.addEventListener("click", () => this.cancel());
    this.copyButton.addEventListener("click", () => void this.copy());
    this.boxesToggle.addEventListener("change", () => options.overlay.setVisible(this.boxesToggle.checked));
    this.list.addEventListener("mouseover", (e) => {
      const li = (e.target as HTMLElement).closest("li");
      options.overlay.highlight(li ? Number(li.dataset.line) : null);
    });
    this.list.addEventListener("mouseleave", () => options.overlay.highlight(null));
    this.element = h("section", { class: "text-panel" },
      h("h3", {}, "Text"),
      h("div", { class: "text-actions" }, this.readButton, this.cancelButton, this.copyButton,
        h("label", { class: "small" }, this.boxesToggle, " Boxes (B)")),
      this.status,
      this.list);
  }

  load(page: number): void {
    this.cancel();
    this.page = page;
    this.show(null);
    this.status.textContent = this.options.automatic ? "" : "Not read yet.";
    if (this.options.automatic) void this.read(false);
  }

  /** Marks the line under the pointer on the image. */
  highlightLine(index: number | null): void {
    this.list.querySelectorAll("li.active").forEach((li) => li.classList.remove("active"));
    if (index === null) return;
    const li = this.list.children[index] as HTMLElement | undefined;
    li?.classList.add("active");
    li?.scrollIntoView({ block: "nearest" });
    this.options.overlay.highlight(index);
  }

  toggleBoxes(): void {
    this.boxesToggle.checked = !this.boxesToggle.checked;
    this.options.overlay.setVisible(this.boxesToggle.checked);
  }

  async read(rerun: boolean): Promise<void> {
    if (this.job !== null) return;
    const request = ++this.request;
    const started = performance.now();
    this.readButton.disabled = true;
    this.cancelButton.hidden = false;
    this.status.textContent = "Reading text…";
    this.timer = window.setInterval(() => {
      this.status.textContent = `Reading text… ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 200);
    try {
      this.job = await api.newJob();
      const page = await api.readText(this.options.itemId, this.page, rerun, this.job);
      if (request === this.request) this.show(page);
    } catch (error) {
      if (request === this.request) {
        this.status.textContent = errorMessage(error);
        this.status.classList.add("item-error-text");
      }
    } finally {
      if (request === this.request) this.settle();
    }
  }

  cancel(): void {
    if (this.job !== null) void api.cancelImport(this.job);
    this.request++;
    this.settle();
  }

  private settle(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.job = null;
    this.readButton.disabled = false;
    this.cancelButton.hidden = true;
  }

  async copy(): Promise<void> {
    if (!this.result) return;
    const ok = await copyText(linesText(this.result.lines));
    this.status.textContent = ok ? `Copied ${this.result.lines.length} lines.` : "Copy failed.";
  }

  private show(page: OcrPage | null): void {
    this.result = page;
    this.status.classList.remove("item-error-text");
    this.options.overlay.show(page);
    this.copyButton.disabled = !page || page.lines.length === 0;
    this.readButton.textContent = page ? "Read again" : "Read text";
    this.list.replaceChildren(...(page?.lines ?? []).map((line, index) => h("li", {
      "data-line": index,
      title: formatConfidence(line.confidence),
      class: line.confidence < 0.8 ? "low-confidence" : undefined,
    }, line.text)));
    if (!page) return;
    const source = page.source === "text_layer" ? "PDF text layer" : `OCR on ${page.provider ?? "?"}`;
    const timing = page.model_ms !== null
      ? `${(page.latency_ms / 1000).toFixed(2)} s (models ${(page.model_ms / 1000).toFixed(2)} s)`
      : `${page.latency_ms.toFixed(0)} ms`;
    this.status.textContent = page.lines.length === 0
      ? `No text found (${source}).`
      : `${page.lines.length} line${page.lines.length === 1 ? "" : "s"} · ${source} · ${timing}${page.cached ? " · recorded" : ""}`;
    this.status.dataset.source = page.source;
  }
}
