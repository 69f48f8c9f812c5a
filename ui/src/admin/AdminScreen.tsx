// The admin screen (role admin; A from the items screen): the router's dashboard over a range
// (presets or from/to, hour or day buckets, filters by backend, model, store and device), the
// live counters (every 10 s while it is up), this station's engine and reviewers, the recent
// requests with their attempts, CSV exports, and, offline, the snapshot's age and why.
import { useEffect, useState } from "preact/hooks";
import type { FilterChoices } from "../bindings/FilterChoices";
import type { LocalStats } from "../bindings/LocalStats";
import type { Live } from "../bindings/Live";
import { DashboardCharts, ExportButton } from "./AdminCharts";
import {
  adminOpen, bucketChoice, closeAdmin, dashboard, dashboardError, filters, live, liveError, loading, local, localError,
  now, query, range, setBucket, setFilter, setRange, staleFreshness,
} from "./admin";
import { PRESETS, customRange, emptyText, offlineText, rfc3339ToLocalInput, utcText, windowText, type BucketChoice } from "./range";
import { RecentRequests } from "./Requests";
import { isEmpty } from "./series";

function Select({ id, label, value, options, onChange }:
  { id: string; label: string; value: string; options: [string, string][]; onChange: (value: string) => void }) {
  return (
    <label class="admin-field">{label}{" "}
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}

/** A filter's options: "All" first, and the chosen value even when the range no longer has it. */
function choiceOptions(values: [string, string][], chosen: string | null): [string, string][] {
  const list: [string, string][] = [["", "All"], ...values];
  if (chosen !== null && !values.some(([v]) => v === chosen)) list.push([chosen, chosen]);
  return list;
}

function FilterBar({ choices }: { choices: FilterChoices | null }) {
  const f = filters.value;
  const text = (key: "backend" | "model" | "store", values: string[]) => (
    <Select id={`admin-${key}`} label={key[0].toUpperCase() + key.slice(1)} value={f[key] ?? ""}
      options={choiceOptions(values.map((v) => [v, v]), f[key])}
      onChange={(v) => setFilter(key, v === "" ? null : v)} />
  );
  const devices = (choices?.devices ?? []).map((d): [string, string] => [String(d.id), `${d.name} (#${d.id})`]);
  return (
    <>
      {text("backend", choices?.backends ?? [])}
      {text("model", choices?.models ?? [])}
      {text("store", choices?.stores ?? [])}
      <Select id="admin-device" label="Device" value={f.device === null ? "" : String(f.device)}
        options={choiceOptions(devices, f.device === null ? null : String(f.device))}
        onChange={(v) => setFilter("device", v === "" ? null : Number(v))} />
    </>
  );
}

const BUCKETS: [BucketChoice, string][] = [["auto", "Auto (day over 3 days)"], ["hour", "Per hour"], ["day", "Per day"]];

function RangeBar() {
  const r = range.value;
  const q = query.value;
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [problem, setProblem] = useState("");
  // the inputs show the range asked last, until edited
  useEffect(() => {
    if (q?.from) setFrom(rfc3339ToLocalInput(q.from));
    if (q?.to) setTo(rfc3339ToLocalInput(q.to));
  }, [q?.from, q?.to]);
  const apply = () => {
    const custom = customRange(from, to);
    if ("error" in custom) { setProblem(custom.error); return; }
    setProblem("");
    setRange(custom);
  };
  return (
    <div class="admin-range" role="group" aria-label="Range and filters">
      <span class="admin-presets" role="group" aria-label="Range">
        {PRESETS.map((p, i) => {
          const active = "preset" in r && r.preset === p.id;
          return (
            <button key={p.id} id={`admin-range-${p.id}`} class={`sync-filter${active ? " active" : ""}`} aria-pressed={active ? "true" : "false"}
              title={`${p.label} up to now (${i + 1})`} onClick={() => setRange({ preset: p.id })}>{p.label}</button>
          );
        })}
      </span>
      <form class="admin-custom" aria-label="Custom range" onSubmit={(e) => { e.preventDefault(); apply(); }}>
        <label class="admin-field">From <input id="admin-from" type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
        <label class="admin-field">To <input id="admin-to" type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
        <button id="admin-range-apply" type="submit" class={"preset" in r ? "" : "active"}>Apply</button>
        {problem && <span class="small item-error-text" id="admin-range-error">{problem}</span>}
      </form>
      <Select id="admin-bucket" label="Buckets" value={bucketChoice.value} options={BUCKETS} onChange={(v) => setBucket(v as BucketChoice)} />
      <FilterBar choices={dashboard.value?.dashboard.choices ?? null} />
    </div>
  );
}

function OfflineBanner() {
  const f = staleFreshness();
  const text = f ? offlineText(f, now.value) : null;
  if (text === null) return null;
  return <div id="admin-offline" class="admin-offline" role="status">{text}</div>;
}

function LiveBackends({ l }: { l: Live }) {
  return (
    <table class="admin-table live-backends">
      <thead><tr><th>Backend</th><th>In flight / cap</th><th>State</th><th class="num">Errors today</th></tr></thead>
      <tbody>
        {l.backends.map((b) => {
          const share = b.cap > 0 ? Math.min(1, b.in_flight / b.cap) : 0;
          return (
            <tr key={b.name} data-backend={b.name} class={b.in_rotation ? "" : "backend-out"}>
              <th>{b.name}</th>
              <td>
                <span class="inflight-bar" role="meter" aria-valuemin={0} aria-valuemax={b.cap} aria-valuenow={b.in_flight}
                  aria-label={`${b.name}: ${b.in_flight} of ${b.cap} in flight`}>
                  <span class={`inflight-fill${share >= 0.9 ? " full" : ""}`} style={{ width: `${Math.round(share * 100)}%` }} />
                </span>
                <span class="small num inflight-text">{`${b.in_flight} / ${b.cap}`}</span>
              </td>
              <td class="backend-state">
                {b.in_rotation ? <span class="model-ok">In rotation</span> : (
                  <span class="model-bad">
                    {`Disabled: ${b.disabled_reason ?? "out of rotation"}`}
                    {b.disabled_until ? ` until ${new Date(b.disabled_until).toLocaleString()}` : ""}
                  </span>
                )}
              </td>
              <td class="num">{b.errors_today.toLocaleString()}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function LivePanel() {
  const v = live.value;
  return (
    <section id="live-panel" class="admin-card" aria-label="Live">
      <div class="admin-card-head"><h3>Live</h3><span class="small muted">refreshed every 10 s</span><ExportButton table="live" /></div>
      {liveError.value && <p class="model-bad small" id="live-error">{liveError.value}</p>}
      {v === null ? <p class="muted small">Loading…</p> : (
        <>
          <p class="admin-rates">
            <strong id="live-rpm">{v.live.rpm.toLocaleString()}</strong> requests per minute ·{" "}
            <strong id="live-rps10">{v.live.rps10.toLocaleString()}</strong> in the last 10 s
          </p>
          {v.live.backends.length === 0 ? <p class="muted small">No backends configured.</p> : <LiveBackends l={v.live} />}
          <p class="small muted">{`Read at ${new Date(v.live.at).toLocaleTimeString()}`}</p>
        </>
      )}
    </section>
  );
}

const STEP_LABELS: Readonly<Record<string, string>> = { quality_gate: "Quality gate", category_gate: "Category gate", ocr: "OCR" };
const msText = (v: number | null) => (v === null ? "—" : `${Math.round(v).toLocaleString()} ms`);

function LocalTables({ s }: { s: LocalStats }) {
  return (
    <>
      <p class="small" id="local-hardware">{`Measured on ${s.hardware}`}</p>
      <table class="admin-table" id="local-steps">
        <thead><tr><th>Step</th><th class="num">Runs</th><th class="num">p50</th><th class="num">p95</th></tr></thead>
        <tbody>
          {s.steps.map((st) => (
            <tr key={st.step} data-step={st.step}>
              <th>{STEP_LABELS[st.step] ?? st.step}</th><td class="num">{st.count.toLocaleString()}</td>
              <td class="num">{msText(st.p50_ms)}</td><td class="num">{msText(st.p95_ms)}</td>
            </tr>
          ))}
          {s.steps.length === 0 && <tr><td colSpan={4} class="muted">No runs in this range.</td></tr>}
        </tbody>
      </table>
      <table class="admin-table" id="local-reviewers">
        <thead><tr><th>Reviewer</th><th class="num">Items</th><th class="num">Items / hour</th><th class="num">Seconds / item</th></tr></thead>
        <tbody>
          {s.reviewers.map((p) => (
            <tr key={p.reviewer} data-reviewer={p.reviewer}>
              <th>{p.reviewer}</th><td class="num">{p.items.toLocaleString()}</td>
              <td class="num">{p.items_per_hour.toFixed(1)}</td><td class="num">{p.seconds_per_item.toFixed(1)}</td>
            </tr>
          ))}
          {s.reviewers.length === 0 && <tr><td colSpan={4} class="muted">No decisions in this range.</td></tr>}
        </tbody>
      </table>
    </>
  );
}

function LocalPanel() {
  const s = local.value;
  return (
    <section id="local-engine" class="admin-card" aria-label="This station">
      <div class="admin-card-head"><h3>This station</h3><ExportButton table="engine" /></div>
      {localError.value && <p class="model-bad small" id="local-error">{localError.value}</p>}
      {s === null ? <p class="muted small">Loading…</p> : <LocalTables s={s} />}
    </section>
  );
}

function Body() {
  const view = dashboard.value;
  const d = view?.dashboard ?? null;
  return (
    <>
      <div class="review-head admin-head">
        <strong>Admin</strong>
        <span id="admin-window" class="small">{d ? windowText(d.window) : "…"}</span>
        {loading.value && <span class="small muted">Loading…</span>}
        <span class="spacer" />
        <span class="small muted">1–4 range · R refresh · Esc close</span>
        <button id="admin-close" title="Close (Esc)" aria-label="Close the admin screen" onClick={closeAdmin}>×</button>
      </div>
      <OfflineBanner />
      <RangeBar />
      <div class="admin-body">
        {dashboardError.value && <p class="model-bad admin-wide" id="admin-error" role="alert">{dashboardError.value}</p>}
        {d === null ? (!dashboardError.value && <p class="muted admin-wide">Loading…</p>)
          : isEmpty(d) ? <p id="admin-empty" class="admin-empty admin-wide">{emptyText(d.window)}</p>
          : <DashboardCharts d={d} />}
        <LivePanel />
        <LocalPanel />
        <RecentRequests />
        {view && <p class="small muted admin-wide">{`Router data fetched at ${utcText(view.freshness.fetched_at)} UTC.`}</p>}
      </div>
    </>
  );
}

export function AdminScreen() {
  const open = adminOpen();
  return (
    <section id="admin-screen" class="admin" hidden={!open} aria-label="Admin: the router's dashboards">
      {open && <Body />}
    </section>
  );
}
