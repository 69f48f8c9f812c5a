// The recent requests of the range, newest first, a page at a time ("Load older" pages back by
// the router's `next_before`); each row opens to its attempts: backend, model, outcome, status,
// latency, tokens, cost and the provider's error.
import type { AttemptView } from "../bindings/AttemptView";
import type { RequestView } from "../bindings/RequestView";
import { ExportButton } from "./AdminCharts";
import { expanded, loadOlder, nextBefore, requests, requestsError, requestsLoading, toggleExpanded } from "./admin";
import { usdText } from "./series";

const COLUMNS = 9;

function timeText(iso: string): string {
  const at = new Date(iso);
  return isNaN(at.getTime()) ? iso : at.toLocaleString();
}

const ms = (v: number | null) => (v === null ? "—" : `${Math.round(v).toLocaleString()} ms`);
const count = (v: number | null) => (v === null ? "—" : v.toLocaleString());

function Attempts({ attempts }: { attempts: AttemptView[] }) {
  if (attempts.length === 0) return <p class="small muted">No backend was called.</p>;
  return (
    <table class="admin-table attempts">
      <thead>
        <tr>
          <th>#</th><th>Backend</th><th>Model</th><th>Outcome</th><th class="num">Status</th><th class="num">Latency</th>
          <th class="num">TTFT</th><th class="num">Tokens in / out</th><th class="num">Cost</th><th>Provider error</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => (
          <tr key={i} class={`attempt attempt-${a.outcome}`}>
            <td class="num">{i + 1}</td>
            <td>{a.backend}</td>
            <td>{a.provider_model}</td>
            <td>{a.outcome}{a.retry_after_ms !== null ? ` (retry after ${ms(a.retry_after_ms)})` : ""}</td>
            <td class="num">{a.http_status ?? "—"}</td>
            <td class="num" title={`Queued ${ms(a.queue_wait_ms)} before the call`}>{ms(a.latency_ms)}</td>
            <td class="num">{ms(a.ttft_ms)}</td>
            <td class="num">{`${count(a.input_tokens)} / ${count(a.output_tokens)}`}</td>
            <td class="num">{usdText(a.cost_usd)}</td>
            <td class="attempt-error">{a.provider_error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RequestRow({ r, open }: { r: RequestView; open: boolean }) {
  const backend = r.final_backend === r.decided_backend || r.final_backend === null
    ? r.decided_backend ?? "—"
    : `${r.decided_backend ?? "—"} → ${r.final_backend}`;
  const failed = r.status >= 400;
  return (
    <>
      <tr class={`request${failed ? " request-failed" : ""}${open ? " open" : ""}`} data-request={r.id}>
        <td>
          <button class="request-toggle small" aria-expanded={open ? "true" : "false"}
            aria-label={open ? "Hide its attempts" : "Show its attempts"} onClick={() => toggleExpanded(r.id)}>{open ? "▾" : "▸"}</button>
        </td>
        <td class="nowrap">{timeText(r.started_at)}</td>
        <td class="num">{r.status}{r.error_code ? <span class="small muted">{` ${r.error_code}`}</span> : null}</td>
        <td>{r.requested_model}{r.stream ? <span class="small muted"> stream</span> : null}</td>
        <td title={r.decision_reason}>{r.decision}</td>
        <td>{backend}{r.fallback ? <span class="chip fallback-chip">fallback</span> : null}</td>
        <td class="num">{ms(r.latency_ms)}</td>
        <td class="num">{ms(r.ttft_ms)}</td>
        <td class="num">{usdText(r.cost_usd)}</td>
      </tr>
      {open && (
        <tr class="request-attempts" data-attempts-of={r.id}>
          <td colSpan={COLUMNS}>
            <p class="small muted">{`Request ${r.id} · store ${r.store ?? "—"} · device ${r.device ?? "—"} · ${r.decision_reason}`}</p>
            <Attempts attempts={r.attempts} />
          </td>
        </tr>
      )}
    </>
  );
}

export function RecentRequests() {
  const rows = requests.value;
  const open = expanded.value;
  const more = nextBefore.value;
  return (
    <section class="admin-card admin-wide" aria-label="Recent requests">
      <div class="admin-card-head"><h3>Recent requests</h3><ExportButton table="requests" /></div>
      {requestsError.value && <p class="model-bad small" id="requests-error">{requestsError.value}</p>}
      <div class="admin-scroll">
        <table id="requests-table" class="admin-table requests">
          <thead>
            <tr>
              <th /><th>Started</th><th class="num">Status</th><th>Model asked</th><th>Decision</th><th>Backend</th>
              <th class="num">Latency</th><th class="num">TTFT</th><th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => <RequestRow key={r.id} r={r} open={open.has(r.id)} />)}
            {rows.length === 0 && !requestsLoading.value && (
              <tr><td colSpan={COLUMNS} class="muted">No requests in this range.</td></tr>
            )}
          </tbody>
        </table>
      </div>
      <div class="admin-pager">
        <span class="small muted" id="requests-count">{`${rows.length.toLocaleString()} shown`}</span>
        {more !== null && (
          <button id="requests-more" disabled={requestsLoading.value} onClick={() => void loadOlder()}>
            {requestsLoading.value ? "Loading…" : "Load older"}
          </button>
        )}
      </div>
    </section>
  );
}
