// Text of a photo or a document page: the lines beside the image (hover or click highlights
// the box drawn over it), copy, and OCR that shows its progress and can be cancelled.
// `TextReader` holds one item's reading state; the item view draws its boxes from it.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { OcrPage } from "../bindings/OcrPage";
import { formatConfidence, linesText } from "../format";

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // WebKitGTK may refuse the async clipboard outside a user gesture: fall back to a selection.
    const area = document.createElement("textarea");
    area.className = "offscreen";
    area.readOnly = true;
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

/** One item's text, one page at a time. */
export class TextReader {
  readonly result = signal<OcrPage | null>(null);
  readonly status = signal("");
  readonly failed = signal(false);
  readonly busy = signal(false);
  readonly boxesVisible = signal(true);
  /** The line under the pointer (on the image or in the list). */
  readonly activeLine = signal<number | null>(null);
  private page = 1;
  private job: number | null = null;
  private request = 0;
  private timer: number | undefined;

  /** `automatic`: documents read their text as soon as a page is shown (a text layer costs ms). */
  constructor(private readonly itemId: number, private readonly automatic: boolean) {}

  load(page: number): void {
    this.cancel();
    this.page = page;
    this.show(null);
    this.status.value = this.automatic ? "" : "Not read yet.";
    if (this.automatic) void this.read(false);
  }

  toggleBoxes(): void {
    this.boxesVisible.value = !this.boxesVisible.value;
  }

  async read(rerun: boolean): Promise<void> {
    if (this.busy.value) return;
    const request = ++this.request;
    const started = performance.now();
    this.busy.value = true;
    this.status.value = "Reading text…";
    this.timer = window.setInterval(() => {
      this.status.value = `Reading text… ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 200);
    try {
      this.job = await api.newJob();
      const page = await api.readText(this.itemId, this.page, rerun, this.job);
      if (request === this.request) this.show(page);
    } catch (error) {
      if (request === this.request) {
        this.status.value = errorMessage(error);
        this.failed.value = true;
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

  async copy(): Promise<void> {
    const result = this.result.value;
    if (!result) return;
    const ok = await copyText(linesText(result.lines));
    this.status.value = ok ? `Copied ${result.lines.length} lines.` : "Copy failed.";
  }

  private settle(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.job = null;
    this.busy.value = false;
  }

  private show(page: OcrPage | null): void {
    this.result.value = page;
    this.failed.value = false;
    this.activeLine.value = null;
    if (!page) return;
    const source = page.source === "text_layer" ? "PDF text layer" : `OCR on ${page.provider ?? "?"}`;
    const timing = page.model_ms !== null
      ? `${(page.latency_ms / 1000).toFixed(2)} s (models ${(page.model_ms / 1000).toFixed(2)} s)`
      : `${page.latency_ms.toFixed(0)} ms`;
    this.status.value = page.lines.length === 0
      ? `No text found (${source}).`
      : `${page.lines.length} line${page.lines.length === 1 ? "" : "s"} · ${source} · ${timing}${page.cached ? " · recorded" : ""}`;
  }
}

export function TextPanel({ reader }: { reader: TextReader }) {
  const page = reader.result.value;
  const active = reader.activeLine.value;
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    if (active !== null) list.current?.children[active]?.scrollIntoView({ block: "nearest" });
  }, [active]);
  return (
    <section class="text-panel">
      <h3>Text</h3>
      <div class="text-actions">
        <button class="read-text" title="Read the text (T)" disabled={reader.busy.value} onClick={() => void reader.read(page !== null)}>
          {page ? "Read again" : "Read text"}
        </button>
        <button class="cancel-read" hidden={!reader.busy.value} onClick={() => reader.cancel()}>Cancel</button>
        <button class="copy-text" title="Copy all text (C)" disabled={!page || page.lines.length === 0} onClick={() => void reader.copy()}>Copy text</button>
        <label class="small">
          <input type="checkbox" class="show-boxes" checked={reader.boxesVisible.value} onChange={() => reader.toggleBoxes()} /> Boxes (B)
        </label>
      </div>
      <p class={`text-status muted small${reader.failed.value ? " item-error-text" : ""}`} aria-live="polite" data-source={page?.source}>
        {reader.status.value}
      </p>
      <ol class="text-lines" ref={list}
        onMouseOver={(e) => {
          const li = (e.target as HTMLElement).closest("li");
          reader.activeLine.value = li ? Number(li.dataset.line) : null;
        }}
        onMouseLeave={() => { reader.activeLine.value = null; }}>
        {(page?.lines ?? []).map((line, index) => (
          <li key={index} data-line={index} title={formatConfidence(line.confidence)}
            class={`${line.confidence < 0.8 ? "low-confidence" : ""}${index === active ? " active" : ""}`}>
            {line.text}
          </li>
        ))}
      </ol>
    </section>
  );
}
