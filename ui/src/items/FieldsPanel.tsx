// The fields of an invoice, receipt or legal document: each with its value, its confidence and
// the checks it failed; clicking one shows where on which page it was read. Extraction runs over
// every page with progress, and can be cancelled. `FieldExtractor` holds one item's state.
import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage, events } from "../api";
import type { Check } from "../bindings/Check";
import type { DocumentKind } from "../bindings/DocumentKind";
import type { DocumentResult } from "../bindings/DocumentResult";
import type { Evidence } from "../bindings/Evidence";
import type { Invoice } from "../bindings/Invoice";
import type { LegalDocument } from "../bindings/LegalDocument";
import { formatConfidence } from "../format";

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

const KIND_LABELS: Record<DocumentKind, string> = { invoice: "Invoice or receipt", legal: "Legal document" };

/** Where a clicked field was read: a page, and the boxes on it (in that page's pixels). */
export type ShowEvidence = (page: number, evidence: Evidence[], size: { width: number; height: number } | null) => void;

export class FieldExtractor {
  readonly result = signal<DocumentResult | null>(null);
  readonly status = signal("");
  readonly failed = signal(false);
  readonly busy = signal(false);
  readonly progress = signal<{ done: number; total: number } | null>(null);
  /** "Read as": null lets the station recognize the kind. */
  readonly kind = signal<DocumentKind | null>(null);
  /** The row shown on the image (its data-key). */
  readonly selected = signal<string | null>(null);
  private job: number | null = null;
  private request = 0;
  private unlisten: (() => void) | null = null;

  constructor(private readonly itemId: number, private readonly showEvidence: ShowEvidence) {}

  async loadRecorded(): Promise<void> {
    const request = this.request;
    try {
      const recorded = await api.latestDocument(this.itemId);
      if (request === this.request && recorded) this.show(recorded);
      else if (request === this.request) this.status.value = "Not extracted yet.";
    } catch (error) {
      this.status.value = errorMessage(error);
    }
  }

  async extract(): Promise<void> {
    if (this.busy.value) return;
    const request = ++this.request;
    const started = performance.now();
    this.busy.value = true;
    this.progress.value = { done: 0, total: 0 };
    this.failed.value = false;
    this.status.value = "Reading pages…";
    try {
      const job = await api.newJob();
      this.job = job;
      this.unlisten = await events.onExtractProgress((e) => {
        if (e.job_id !== job || request !== this.request) return;
        this.progress.value = { done: e.pages_done, total: e.pages_total };
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        this.status.value = `Read page ${e.pages_done} of ${e.pages_total} · ${seconds} s`;
      });
      const result = await api.extractDocument(this.itemId, this.kind.value, job);
      if (request === this.request) this.show(result);
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
    const running = this.busy.value;
    if (this.job !== null) void api.cancelImport(this.job);
    this.request++;
    this.settle();
    if (!running) return;
    const result = this.result.value;
    if (result) this.show(result);
    else this.status.value = "Cancelled.";
  }

  /** Shows a row's evidence: `row` carries it as data attributes (data-evidence, data-page). */
  reveal(row: HTMLElement): void {
    this.selected.value = row.dataset.key ?? null;
    row.scrollIntoView({ block: "nearest" });
    const evidence = JSON.parse(row.dataset.evidence ?? "[]") as Evidence[];
    const page = Number(row.dataset.page ?? evidence[0]?.page ?? 1);
    const size = this.result.value?.pages.find((p) => p.page === page) ?? null;
    this.showEvidence(page, evidence.filter((e) => e.page === page), size);
  }

  /** Moves to the next row that needs attention (failed check, low confidence, missing). */
  nextDoubtful(body: HTMLElement | null): void {
    const rows = [...(body?.querySelectorAll<HTMLElement>("[data-evidence][data-state]:not([data-state='ok'])") ?? [])];
    if (rows.length === 0) return;
    const current = rows.findIndex((r) => r.dataset.key === this.selected.value);
    this.reveal(rows[(current + 1) % rows.length]);
  }

  private settle(): void {
    this.unlisten?.();
    this.unlisten = null;
    this.job = null;
    this.busy.value = false;
    this.progress.value = null;
  }

  private show(result: DocumentResult): void {
    this.result.value = result;
    this.kind.value = result.kind;
    this.failed.value = false;
    const when = result.cached ? " · recorded" : "";
    const pages = `${result.pages.length} of ${result.page_count} page${result.page_count === 1 ? "" : "s"}`;
    this.status.value = `${KIND_LABELS[result.kind]} · ${pages} · ${(result.latency_ms / 1000).toFixed(2)} s${when}`;
  }
}

function evidenceAttrs(key: string, field: FieldLike | null, selected: string | null, page?: number) {
  const evidence = field?.evidence ?? [];
  return {
    "data-key": key,
    "data-evidence": JSON.stringify(evidence),
    "data-page": String(page ?? evidence[0]?.page ?? 1),
    selected: key === selected,
  };
}

interface RowProps {
  name: string;
  label: string;
  field: FieldLike;
  value?: string | null;
  selected: string | null;
}

function FieldRow({ name, label, field, value, selected }: RowProps) {
  const state = fieldState(field);
  const failed = field.checks.filter((c) => !c.passed);
  const shown = value ?? field.printed;
  const { selected: isSelected, ...attrs } = evidenceAttrs(name, field, selected);
  return (
    <tr class={`field field-${state}${isSelected ? " selected" : ""}`} data-field={name} data-state={state} {...attrs} tabIndex={0}>
      <th>{label}</th>
      <td class="field-value">
        {shown ?? "—"}
        {failed.map((c) => <span class="check-failed" title={c.detail} data-check={c.name}>{` ⚠ ${c.name.replaceAll("_", " ")}`}</span>)}
      </td>
      <td class="num confidence" title={field.checks.map((c) => `${c.passed ? "✓" : "✗"} ${c.detail}`).join("\n")}>
        {shown === null ? "" : formatConfidence(field.confidence)}
      </td>
    </tr>
  );
}

function Table({ head, children }: { head?: string[]; children: ComponentChildren }) {
  return (
    <table class="fields">
      {head && <thead><tr>{head.map((t) => <th>{t}</th>)}</tr></thead>}
      <tbody>{children}</tbody>
    </table>
  );
}

function ChecksList({ checks }: { checks: Check[] }) {
  return (
    <ul class="doc-checks">
      {checks.map((c) => (
        <li class={c.passed ? "ok" : "bad"} data-check={c.name} title={c.detail}>
          {`${c.passed ? "✓" : "✗"} ${c.name.replaceAll("_", " ")} — ${c.detail}`}
        </li>
      ))}
    </ul>
  );
}

export function InvoiceFields({ inv, selected = null }: { inv: Invoice; selected?: string | null }) {
  const date = inv.date.value ? `${inv.date.value.iso}${inv.date.value.ambiguous ? " (day/month?)" : ""}` : null;
  const row = (name: string, label: string, field: FieldLike, value?: string | null) =>
    <FieldRow name={name} label={label} field={field} value={value} selected={selected} />;
  const cell = (key: string, name: string, field: FieldLike) => {
    const state = fieldState(field);
    const { selected: isSelected, ...attrs } = evidenceAttrs(key, field, selected);
    return <td class={`item-cell field-${state}${isSelected ? " selected" : ""}`} data-field={name} data-state={state} {...attrs}>{field.printed ?? ""}</td>;
  };
  return (
    <>
      <p class="doc-confidence">{`Confidence ${formatConfidence(inv.confidence)}`}</p>
      <Table>
        {row("number", "Number", inv.number)}
        {row("date", "Date", inv.date, date)}
        {row("seller", "Seller", inv.seller)}
        {row("seller_address", "Address", inv.seller_address)}
        {row("seller_tax_id", "Seller tax id", inv.seller_tax_id)}
        {row("buyer", "Buyer", inv.buyer)}
        {row("buyer_tax_id", "Buyer tax id", inv.buyer_tax_id)}
        {row("currency", "Currency", inv.currency)}
      </Table>
      <h4>Items</h4>
      {inv.line_items.length === 0 ? <p class="muted small">No item table found.</p> : (
        <Table head={["Description", "HSN/SAC", "Qty", "Price", "Amount"]}>
          {inv.line_items.map((item, i) => (
            <tr data-item={i}>
              {cell(`item:${i}:description`, "description", item.description)}
              {cell(`item:${i}:hsn_sac`, "hsn_sac", item.hsn_sac)}
              {cell(`item:${i}:quantity`, "quantity", item.quantity)}
              {cell(`item:${i}:unit_price`, "unit_price", item.unit_price)}
              {cell(`item:${i}:amount`, "amount", item.amount)}
            </tr>
          ))}
        </Table>
      )}
      <Table>
        {row("subtotal", "Subtotal", inv.subtotal)}
        {inv.taxes.map((t) => row(`tax_${t.kind.toLowerCase()}`, `${t.kind}${t.rate_percent ? ` ${t.rate_percent} %` : ""}`, t.amount))}
        {inv.rounding.printed !== null ? row("rounding", "Rounding", inv.rounding) : null}
        {row("total", "Total", inv.total)}
      </Table>
      <h4>Checks</h4>
      <ChecksList checks={inv.checks} />
    </>
  );
}

export function LegalFields({ doc, selected = null }: { doc: LegalDocument; selected?: string | null }) {
  const date = (f: LegalDocument["filed"]) => f.value?.iso ?? null;
  const row = (name: string, label: string, field: FieldLike, value?: string | null) =>
    <FieldRow name={name} label={label} field={field} value={value} selected={selected} />;
  const pageRow = (key: string, page: number, text: string, note: string) => (
    <li data-key={key} data-evidence="[]" data-page={String(page)} data-state="ok" tabIndex={0} class={key === selected ? "selected" : undefined}>
      {text}<span class="muted">{note}</span>
    </li>
  );
  const citations = (title: string, prefix: string, list: LegalDocument["statutes"]) => list.length === 0 ? <span /> : (
    <div>
      <h4>{title}</h4>
      <ul class="citations">
        {list.map((c, i) => (
          <li data-key={`${prefix}:${i}`} data-evidence={JSON.stringify(c.evidence)} data-page={String(c.evidence[0]?.page ?? 1)} data-state="ok" tabIndex={0}
            class={`${prefix}:${i}` === selected ? "selected" : undefined}>
            {c.text}{c.count > 1 && <span class="muted">{` ×${c.count}`}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
  return (
    <>
      <Table>
        {row("case_number", "Case", doc.case_number)}
        {row("court", "Court", doc.court, doc.court.value)}
        {doc.parties.map((p, i) => row(`party_${i}`, p.role[0].toUpperCase() + p.role.slice(1), p.name))}
        {doc.judges.map((j, i) => row(`judge_${i}`, "Judge", j))}
        {row("filed", "Filed", doc.filed, date(doc.filed))}
        {row("heard", "Heard", doc.heard, date(doc.heard))}
        {row("decided", "Decided", doc.decided, date(doc.decided))}
      </Table>
      <h4>Summary (extractive)</h4>
      <ol class="summary">{doc.summary.map((s, i) => pageRow(`summary:${i}`, s.page, s.text, ` p. ${s.page}`))}</ol>
      <h4>Sections</h4>
      <ol class="outline">{doc.sections.filter((s) => s.heading).map((s, i) => pageRow(`section:${i}`, s.page, s.heading ?? "", ` p. ${s.page}`))}</ol>
      {citations("Statutes", "statute", doc.statutes)}
      {citations("Cases cited", "case", doc.cited_cases)}
    </>
  );
}

export function FieldsPanel({ extractor, body }: { extractor: FieldExtractor; body: { current: HTMLDivElement | null } }) {
  const result = extractor.result.value;
  const progress = extractor.progress.value;
  const selected = extractor.selected.value;
  const progressRef = useRef<HTMLProgressElement>(null);
  // an indeterminate bar until the first page is read (a progress element with no value)
  useEffect(() => {
    const bar = progressRef.current;
    if (!bar) return;
    if (progress && progress.total > 0) { bar.max = progress.total; bar.value = progress.done; } else bar.removeAttribute("value");
  }, [progress]);
  return (
    <section class="fields-panel">
      <h3>Fields</h3>
      <div class="fields-actions">
        <select class="fields-kind" title="Read as" value={extractor.kind.value ?? ""}
          onChange={(e) => { extractor.kind.value = ((e.target as HTMLSelectElement).value || null) as DocumentKind | null; }}>
          <option value="">Recognize</option>
          <option value="invoice">{KIND_LABELS.invoice}</option>
          <option value="legal">{KIND_LABELS.legal}</option>
        </select>
        <button class="extract-fields" title="Extract the fields (E)" disabled={extractor.busy.value} onClick={() => void extractor.extract()}>
          {result ? "Extract again" : "Extract fields"}
        </button>
        <button class="cancel-extract" hidden={!extractor.busy.value} onClick={() => extractor.cancel()}>Cancel</button>
      </div>
      <progress class="extract-progress" hidden={progress === null} ref={progressRef} />
      <p class={`fields-status muted small${extractor.failed.value ? " item-error-text" : ""}`} aria-live="polite">{extractor.status.value}</p>
      <div class="fields-body" ref={body}
        onClick={(event) => {
          const target = (event.target as HTMLElement).closest<HTMLElement>("[data-evidence]");
          if (target) extractor.reveal(target);
        }}>
        {result?.invoice ? <InvoiceFields inv={result.invoice} selected={selected} />
          : result?.legal ? <LegalFields doc={result.legal} selected={selected} /> : null}
      </div>
    </section>
  );
}
