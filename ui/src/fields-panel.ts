// The fields of an invoice, receipt or legal document: each with its value, its confidence and
// the checks it failed; clicking one shows where on which page it was read. Extraction runs over
// every page with progress, and can be cancelled.
import { api, errorMessage, events } from "./api";
import type { Check } from "./bindings/Check";
import type { DocumentKind } from "./bindings/DocumentKind";
import type { DocumentResult } from "./bindings/DocumentResult";
import type { Evidence } from "./bindings/Evidence";
import type { Invoice } from "./bindings/Invoice";
import type { LegalDocument } from "./bindings/LegalDocument";
import { h } from "./dom";
import { formatConfidence } from "./format";

/** A field as the panel shows it: any extracted value with its confidence, checks and boxes. */
export interface FieldLike {
  printed: string | null;
  confidence: number;
  checks: Check[];
  evidence: Evidence[];
}

/** Below this a field is marked for a person's attention. */
export const LOW_CONFIDENCE = 0.8;

export function fieldState(field: FieldLike): "missing" | "failed" | "low" | "ok" {
  if (field.printed === null) return "missing";
  if (field.checks.some((c) => !c.passed)) return "failed";
  if (field.confidence < LOW_CONFIDENCE) return "low";
  return "ok";
}

export interface FieldsPanelOptions {
  itemId: number;
  /** Shows `page` with these boxes marked (page coordinates of `size`). */
  showEvidence: (page: number, evidence: Evidence[], size: { width: number; height: number } | null) => void;
}

const KIND_LABELS: Record<DocumentKind, string> = { invoice: "Invoice or receipt", legal: "Legal document" };

export class FieldsPanel {
  readonly element: HTMLElement;
  private readonly status = h("p", { class: "fields-status muted small", "aria-live": "polite" });
  private readonly body = h("div", { class: "fields-body" });
  private readonly kind = h("select", { class: "fields-kind", title: "Read as" },
    h("option", { value: "" }, "Recognize"),
    h("option", { value: "invoice" }, KIND_LABELS.invoice),
    h("option", { value: "legal" }, KIND_LABELS.legal));
  private readonly extractButton = h("button", { class: "extract-fields", title: "Extract the fields (E)" }, "Extract fields");
  private readonly cancelButton = h("button", { class: "cancel-extract", hidden: true }, "Cancel");
  private readonly progress = h("progress", { class: "extract-progress", hidden: true, max: 1, value: 0 });
  private result: DocumentResult | null = null;
  private job: number | null = null;
  private request = 0;
  private unlisten: (() => void) | null = null;

  constructor(private readonly options: FieldsPanelOptions) {
    this.extractButton.addEventListener("click", () => void this.extract());
    this.cancelButton.addEventListener("click", () => this.cancel());
    this.body.addEventListener("click", (event) => {
      const target = (event.target as HTMLElement).closest<HTMLElement>("[data-evidence]");
      if (target) this.reveal(target);
    });
    this.element = h("section", { class: "fields-panel" },
      h("h3", {}, "Fields"),
      h("div", { class: "fields-actions" }, this.kind, this.extractButton, this.cancelButton),
      this.progress,
      this.status,
      this.body);
    void this.loadRecorded();
  }

  private async loadRecorded(): Promise<void> {
    const request = this.request;
    try {
      const recorded = await api.latestDocument(this.options.itemId);
      if (request === this.request && recorded) this.show(recorded);
      else if (request === this.request) this.status.textContent = "Not extracted yet.";
    } catch (error) {
      this.status.textContent = errorMessage(error);
    }
  }

  async extract(): Promise<void> {
    if (this.job !== null) return;
    const request = ++this.request;
    const started = performance.now();
    this.extractButton.disabled = true;
    this.cancelButton.hidden = false;
    this.progress.hidden = false;
    this.progress.removeAttribute("value");
    this.status.classList.remove("item-error-text");
    this.status.textContent = "Reading pages…";
    try {
      const job = await api.newJob();
      this.job = job;
      this.unlisten = await events.onExtractProgress((e) => {
        if (e.job_id !== job || request !== this.request) return;
        this.progress.max = e.pages_total;
        this.progress.value = e.pages_done;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        this.status.textContent = `Read page ${e.pages_done} of ${e.pages_total} · ${seconds} s`;
      });
      const kind = (this.kind.value || null) as DocumentKind | null;
      const result = await api.extractDocument(this.options.itemId, kind, job);
      if (request === this.request) this.show(result);
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
    const running = this.job !== null || !this.cancelButton.hidden;
    if (this.job !== null) void api.cancelImport(this.job);
    this.request++;
    this.settle();
    if (!running) return;
    if (this.result) this.show(this.result);
    else this.status.textContent = "Cancelled.";
  }

  dispose(): void {
    this.cancel();
  }

  private settle(): void {
    this.unlisten?.();
    this.unlisten = null;
    this.job = null;
    this.extractButton.disabled = false;
    this.cancelButton.hidden = true;
    this.progress.hidden = true;
  }

  /** Moves to the next field that needs attention (failed check, low confidence, missing). */
  nextDoubtful(): void {
    const rows = [...this.body.querySelectorAll<HTMLElement>("[data-evidence][data-state]:not([data-state='ok'])")];
    if (rows.length === 0) return;
    const current = rows.findIndex((r) => r.classList.contains("selected"));
    this.reveal(rows[(current + 1) % rows.length]);
  }

  private reveal(target: HTMLElement): void {
    this.body.querySelectorAll(".selected").forEach((e) => e.classList.remove("selected"));
    target.classList.add("selected");
    target.scrollIntoView({ block: "nearest" });
    const evidence = JSON.parse(target.dataset.evidence ?? "[]") as Evidence[];
    const page = Number(target.dataset.page ?? evidence[0]?.page ?? 1);
    const size = this.result?.pages.find((p) => p.page === page) ?? null;
    this.options.showEvidence(page, evidence.filter((e) => e.page === page), size);
  }

  private show(result: DocumentResult): void {
    this.result = result;
    this.kind.value = result.kind;
    this.extractButton.textContent = "Extract again";
    const when = result.cached ? " · recorded" : "";
    const pages = `${result.pages.length} of ${result.page_count} page${result.page_count === 1 ? "" : "s"}`;
    this.status.textContent = `${KIND_LABELS[result.kind]} · ${pages} · ${(result.latency_ms / 1000).toFixed(2)} s${when}`;
    this.body.replaceChildren(...(result.invoice ? invoiceView(result.invoice) : result.legal ? legalView(result.legal) : []));
  }
}

function evidenceAttrs(field: FieldLike | null, page?: number): Record<string, string> {
  const evidence = field?.evidence ?? [];
  return {
    "data-evidence": JSON.stringify(evidence),
    "data-page": String(page ?? evidence[0]?.page ?? 1),
  };
}

function fieldRow(name: string, label: string, field: FieldLike, value?: string | null): HTMLElement {
  const state = fieldState(field);
  const failed = field.checks.filter((c) => !c.passed);
  const shown = value ?? field.printed;
  return h("tr", { class: `field field-${state}`, "data-field": name, "data-state": state, ...evidenceAttrs(field), tabindex: 0 },
    h("th", {}, label),
    h("td", { class: "field-value" }, shown ?? "—",
      ...failed.map((c) => h("span", { class: "check-failed", title: c.detail, "data-check": c.name }, ` ⚠ ${c.name.replaceAll("_", " ")}`))),
    h("td", { class: "num confidence", title: field.checks.map((c) => `${c.passed ? "✓" : "✗"} ${c.detail}`).join("\n") },
      shown === null ? "" : formatConfidence(field.confidence)));
}

function table(rows: (HTMLElement | null)[], head?: string[]): HTMLElement {
  return h("table", { class: "fields" },
    head ? h("thead", {}, h("tr", {}, ...head.map((t) => h("th", {}, t)))) : null,
    h("tbody", {}, ...rows));
}

function checksList(checks: Check[]): HTMLElement {
  return h("ul", { class: "doc-checks" }, ...checks.map((c) =>
    h("li", { class: c.passed ? "ok" : "bad", "data-check": c.name, title: c.detail },
      `${c.passed ? "✓" : "✗"} ${c.name.replaceAll("_", " ")} — ${c.detail}`)));
}

export function invoiceView(inv: Invoice): HTMLElement[] {
  const date = inv.date.value ? `${inv.date.value.iso}${inv.date.value.ambiguous ? " (day/month?)" : ""}` : null;
  const header = table([
    fieldRow("number", "Number", inv.number),
    fieldRow("date", "Date", inv.date, date),
    fieldRow("seller", "Seller", inv.seller),
    fieldRow("seller_address", "Address", inv.seller_address),
    fieldRow("seller_tax_id", "Seller tax id", inv.seller_tax_id),
    fieldRow("buyer", "Buyer", inv.buyer),
    fieldRow("buyer_tax_id", "Buyer tax id", inv.buyer_tax_id),
    fieldRow("currency", "Currency", inv.currency),
  ]);
  const cell = (name: string, field: FieldLike) =>
    h("td", { class: `item-cell field-${fieldState(field)}`, "data-field": name, "data-state": fieldState(field), ...evidenceAttrs(field) },
      field.printed ?? "");
  const items = inv.line_items.length === 0 ? h("p", { class: "muted small" }, "No item table found.") : table(
    inv.line_items.map((item, i) => h("tr", { "data-item": i },
      cell("description", item.description), cell("hsn_sac", item.hsn_sac), cell("quantity", item.quantity),
      cell("unit_price", item.unit_price), cell("amount", item.amount))),
    ["Description", "HSN/SAC", "Qty", "Price", "Amount"]);
  const amounts = table([
    fieldRow("subtotal", "Subtotal", inv.subtotal),
    ...inv.taxes.map((t) => fieldRow(`tax_${t.kind.toLowerCase()}`, `${t.kind}${t.rate_percent ? ` ${t.rate_percent} %` : ""}`, t.amount)),
    inv.rounding.printed !== null ? fieldRow("rounding", "Rounding", inv.rounding) : null,
    fieldRow("total", "Total", inv.total),
  ]);
  return [
    h("p", { class: "doc-confidence" }, `Confidence ${formatConfidence(inv.confidence)}`),
    header,
    h("h4", {}, "Items"), items,
    amounts,
    h("h4", {}, "Checks"), checksList(inv.checks),
  ];
}

export function legalView(doc: LegalDocument): HTMLElement[] {
  const date = (f: LegalDocument["filed"]) => f.value?.iso ?? null;
  const meta = table([
    fieldRow("case_number", "Case", doc.case_number),
    fieldRow("court", "Court", doc.court, doc.court.value),
    ...doc.parties.map((p, i) => fieldRow(`party_${i}`, p.role[0].toUpperCase() + p.role.slice(1), p.name)),
    ...doc.judges.map((j, i) => fieldRow(`judge_${i}`, "Judge", j)),
    fieldRow("filed", "Filed", doc.filed, date(doc.filed)),
    fieldRow("heard", "Heard", doc.heard, date(doc.heard)),
    fieldRow("decided", "Decided", doc.decided, date(doc.decided)),
  ]);
  const citations = (title: string, list: LegalDocument["statutes"]) => list.length === 0 ? null : h("div", {},
    h("h4", {}, title),
    h("ul", { class: "citations" }, ...list.map((c) => h("li", { "data-evidence": JSON.stringify(c.evidence), "data-page": String(c.evidence[0]?.page ?? 1), "data-state": "ok", tabindex: 0 },
      c.text, c.count > 1 ? h("span", { class: "muted" }, ` ×${c.count}`) : null))));
  const outline = h("ol", { class: "outline" }, ...doc.sections.filter((s) => s.heading).map((s) =>
    h("li", { "data-evidence": "[]", "data-page": String(s.page), "data-state": "ok", tabindex: 0 },
      s.heading ?? "", h("span", { class: "muted" }, ` p. ${s.page}`))));
  const summary = h("ol", { class: "summary" }, ...doc.summary.map((s) =>
    h("li", { "data-evidence": "[]", "data-page": String(s.page), "data-state": "ok", tabindex: 0 },
      s.text, h("span", { class: "muted" }, ` p. ${s.page}`))));
  return [meta,
    h("h4", {}, "Summary (extractive)"), summary,
    h("h4", {}, "Sections"), outline,
    citations("Statutes", doc.statutes) ?? h("span"),
    citations("Cases cited", doc.cited_cases) ?? h("span")];
}
