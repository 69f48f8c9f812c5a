// The item view: the photo (or the document's page) with zoom and the text overlay, the gate
// figures against thresholds, verdict, reasons and retake suggestions, the category verdict,
// the fields and the text — or the specific error for a file that could not be analyzed.
// Mounted once per item (keyed by its id): its readers start and stop with it.
import type { RefObject } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { blobUrl, pageUrl } from "../api";
import type { Evidence } from "../bindings/Evidence";
import type { ItemDetail } from "../bindings/ItemDetail";
import type { QualityReport } from "../bindings/QualityReport";
import type { StoresInfo } from "../bindings/StoresInfo";
import {
  CHECK_LABELS, REASON_LABELS, STATE_LABELS, formatBytes, formatConfidence, formatDate, formatThreshold, formatValue, itemState,
} from "../format";
import { CategoryPanel } from "./CategoryPanel";
import { FieldExtractor, FieldsPanel } from "./FieldsPanel";
import { Overlay, type Box } from "./Overlay";
import { TextPanel, TextReader } from "./TextPanel";
import { PhotoViewer, Thumbs, useZoom } from "./Viewer";

/** Handles a key for the item shown; true when it did. */
export type ItemKeys = (event: KeyboardEvent) => boolean;

export function EmptyItem() {
  return (
    <div class="empty">
      <p>Drop photos, PDFs or folders anywhere in this window, or use Open photos…</p>
      <p class="muted">JPEG, PNG, WebP and PDF. Each photo gets a quality verdict at once, with no network.</p>
    </div>
  );
}

function Header({ detail }: { detail: ItemDetail }) {
  const state = itemState(detail.item);
  return (
    <div class="detail-head">
      <h2 title={detail.item.source_path}>{detail.item.file_name}</h2>
      <span class={`verdict verdict-${state}`}>{STATE_LABELS[state]}</span>
    </div>
  );
}

function Facts({ detail }: { detail: ItemDetail }) {
  const { item, analysis } = detail;
  return (
    <dl class="facts">
      <dt>Source</dt><dd class="path">{item.source_path}</dd>
      <dt>Size</dt><dd>{`${formatBytes(item.byte_len)}${item.width ? ` · ${item.width}×${item.height} px` : ""}${item.format ? ` · ${item.format.toUpperCase()}` : ""}`}</dd>
      <dt>Imported</dt><dd>{formatDate(item.created_at)}</dd>
      {analysis && <><dt>Engine</dt><dd>{`${analysis.engine_version} · ${analysis.latency_ms.toFixed(1)} ms`}</dd></>}
    </dl>
  );
}

function QualitySections({ quality }: { quality: QualityReport }) {
  return (
    <>
      {quality.reasons.length > 0 && (
        <section class="reasons">
          <h3>Why it failed</h3>
          <ul>{quality.reasons.map((r) => <li class="reason" data-reason={r}>{REASON_LABELS[r]}</li>)}</ul>
          <h3>Retake</h3>
          <ul class="suggestions">{quality.suggestions.map((s) => <li>{s}</li>)}</ul>
        </section>
      )}
      <section class="figures">
        <h3 id="gate-profile" data-profile={quality.profile}>
          {quality.profile === "document" ? "Quality gate — judged as a page (receipt, invoice)" : "Quality gate"}
        </h3>
        <table class="checks">
          <thead><tr><th>Check</th><th>Measured</th><th>Threshold</th><th>Verdict</th></tr></thead>
          <tbody>
            {quality.checks.map((c) => (
              <tr class={c.passed ? "ok" : c.counted ? "bad" : "ignored"} data-check={c.check}>
                <td>{CHECK_LABELS[c.check]}</td>
                <td class="num">{formatValue(c.check, c.value)}</td>
                <td class="num">{formatThreshold(c)}</td>
                <td>{c.passed ? "✓ pass" : c.counted ? "✗ fail" : "— not counted"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted small">
          {`Measured on a ${quality.working_width}×${quality.working_height} working image (JPEG decoded at ${quality.decode_scale}). ` +
            `Clipped highlights ${(quality.highlight_share * 100).toFixed(1)} %, deep shadows ${(quality.shadow_share * 100).toFixed(1)} %.`}
        </p>
      </section>
    </>
  );
}

interface EvidenceBoxes {
  width: number;
  height: number;
  boxes: Box[];
}

export function ItemView({ detail, stores, keysRef }: { detail: ItemDetail; stores: StoresInfo | null; keysRef: RefObject<ItemKeys | null> }) {
  const { item } = detail;
  const state = itemState(item);
  if (state === "error" || !item.blob_sha256) {
    keysRef.current = null;
    return (
      <article class="detail" data-item-id={item.id}>
        <Header detail={detail} />
        <div class="item-error" role="alert">
          <strong>Could not analyze this file: </strong>{item.error_message ?? "unknown error"}
          <code class="error-code">{item.error_code ?? ""}</code>
        </div>
        <Facts detail={detail} />
      </article>
    );
  }
  return <AnalyzedItem detail={detail} sha={item.blob_sha256} stores={stores} keysRef={keysRef} />;
}

function AnalyzedItem({ detail, sha, stores, keysRef }: { detail: ItemDetail; sha: string; stores: StoresInfo | null; keysRef: RefObject<ItemKeys | null> }) {
  const { item, quality } = detail;
  const isDocument = item.kind === "document";
  const pageCount = Math.max(1, item.page_count ?? 1);
  const [page, setPage] = useState(1);
  const [evidence, setEvidence] = useState<EvidenceBoxes | null>(null);
  const img = useRef<HTMLImageElement>(null);
  const fieldsBody = useRef<HTMLDivElement>(null);
  const zoom = useZoom(img);
  const text = useMemo(() => new TextReader(item.id, isDocument), [item.id, isDocument]);
  const goTo = (next: number) => {
    setEvidence(null);
    if (next >= 1 && next <= pageCount) setPage(next);
  };
  const fields = useMemo(() => new FieldExtractor(item.id, (target: number, boxes: Evidence[], size) => {
    goTo(target);
    const el = img.current;
    setEvidence({
      width: size?.width ?? el?.naturalWidth ?? 1,
      height: size?.height ?? el?.naturalHeight ?? 1,
      boxes: boxes.map((b) => ({ polygon: b.polygon, title: b.text })),
    });
  }), [item.id]);
  useEffect(() => {
    void fields.loadRecorded();
    return () => { text.cancel(); fields.cancel(); };
  }, [text, fields]);
  useEffect(() => text.load(page), [text, page]);
  // a field's evidence is brought into view once drawn
  useEffect(() => {
    if (evidence) img.current?.parentElement?.querySelector(".evidence-box")?.scrollIntoView({ block: "center", inline: "nearest" });
  }, [evidence]);

  keysRef.current = (event: KeyboardEvent): boolean => {
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    switch (event.key) {
      case "+": case "=": zoom.step(1); return true;
      case "-": zoom.step(-1); return true;
      case "t": void text.read(false); return true;
      case "b": text.toggleBoxes(); return true;
      case "c": void text.copy(); return true;
      case "e": void fields.extract(); return true;
      case "n": fields.nextDoubtful(fieldsBody.current); return true;
      case "PageDown": case "]": goTo(page + 1); return isDocument;
      case "PageUp": case "[": goTo(page - 1); return isDocument;
      default: return false;
    }
  };

  const ocr = text.result.value;
  const pageNav = isDocument && (
    <span class="page-nav">
      <button title="Previous page (PageUp, [)" class="page-prev" onClick={() => goTo(page - 1)}>◀</button>
      <span class="page-label">{`Page ${page} of ${pageCount}`}</span>
      <button title="Next page (PageDown, ])" class="page-next" onClick={() => goTo(page + 1)}>▶</button>
    </span>
  );
  return (
    <article class="detail" data-item-id={item.id} data-kind={item.kind}>
      <Header detail={detail} />
      <div class="detail-body">
        {isDocument && <Thumbs sha={sha} pageCount={pageCount} page={page} open={goTo} />}
        <PhotoViewer src={isDocument ? pageUrl(sha, page) : blobUrl(sha)} alt={item.file_name} img={img} zoom={zoom} tools={pageNav}>
          <Overlay img={img} class="ocr-overlay" boxClass="ocr-box" width={ocr?.width ?? 1} height={ocr?.height ?? 1}
            boxes={(ocr?.lines ?? []).map((l) => ({ polygon: l.polygon, title: `${l.text} — ${formatConfidence(l.confidence)}` }))}
            active={text.activeLine.value} hidden={!text.boxesVisible.value}
            onHover={(index) => { text.activeLine.value = index; }} />
          <Overlay img={img} class="ocr-overlay evidence-overlay" boxClass="evidence-box" width={evidence?.width ?? 1}
            height={evidence?.height ?? 1} boxes={evidence?.boxes ?? []} />
        </PhotoViewer>
        <div class="detail-side">
          {quality && <QualitySections quality={quality} />}
          {!isDocument && <CategoryPanel itemId={item.id} initial={detail.category} stores={stores} />}
          <FieldsPanel extractor={fields} body={fieldsBody} />
          <TextPanel reader={text} />
          <Facts detail={detail} />
        </div>
      </div>
    </article>
  );
}
