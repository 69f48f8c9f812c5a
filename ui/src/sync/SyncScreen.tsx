// The sync panel, a panel beside the items: connect the station to a router with an enrolment
// code (or see the link and disconnect), and the outbox: its counts per state as filters, its
// rows a page at a time with their progress, reasons, Retry now and Open item. Keys it does not
// use go to the items screen beneath.
import { useEffect, useRef, useState } from "preact/hooks";
import type { SyncJob } from "../bindings/SyncJob";
import type { SyncStatus } from "../bindings/SyncStatus";
import { closeScreen, route } from "../app/router";
import { session } from "../app/state";
import {
  FILTERS, PAGE_SIZE, STATE_HINTS, STATE_LABELS, canRetry, confirmingDisconnect, connect, connectError, connecting,
  countFor, disconnect, filter, filterLabel, goToPage, jobsError, kindLabel, lastContactText, notice, offset, openItem,
  page, pageText, retry, retryText, selected, setFilter, status, statusError,
} from "./sync";

/** The form that enrols the station with a router. */
export function ConnectForm() {
  const [url, setUrl] = useState("");
  const [code, setCode] = useState("");
  // the signed-in reviewer's name until the user types one (the session may load after this)
  const [typed, setName] = useState<string | null>(null);
  const name = typed ?? session.value.reviewer ?? "Station";
  const busy = connecting.value;
  const ready = url.trim() !== "" && code.trim() !== "" && name.trim() !== "";
  return (
    <form id="sync-connect" class="sync-form" aria-labelledby="sync-connect-title"
      onSubmit={(e) => { e.preventDefault(); if (ready && !busy) void connect(url, code, name); }}>
      <h3 id="sync-connect-title">Connect to a router</h3>
      <label for="sync-url">Router URL</label>
      <input id="sync-url" type="url" placeholder="https://router.example.com" autoComplete="off" spellcheck={false}
        value={url} disabled={busy} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
      <label for="sync-code">Enrolment code</label>
      <input id="sync-code" type="text" placeholder="From the router's administrator" autoComplete="off" spellcheck={false}
        value={code} disabled={busy} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
      <label for="sync-station-name">Station name</label>
      <input id="sync-station-name" type="text" maxLength={100} value={name} disabled={busy}
        onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <p class="small muted">The station's device key is kept in this computer's system keyring, never in a file.</p>
      <div class="sync-form-actions">
        <button id="sync-connect-button" type="submit" class="primary" disabled={busy || !ready}>{busy ? "Connecting…" : "Connect"}</button>
      </div>
      <p id="sync-connect-error" class="item-error-text small" role="alert">{connectError.value}</p>
    </form>
  );
}

/** The link as it is: where to, who, online or not (and why), Disconnect. */
export function ConnectionView({ status: s, now }: { status: SyncStatus; now: number }) {
  const c = s.connection;
  if (c === null) return null;
  const confirming = confirmingDisconnect.value;
  return (
    <section class="sync-connection" aria-label="Connection">
      <dl class="facts sync-facts">
        <dt>Router</dt><dd id="sync-url-shown">{c.url}</dd>
        <dt>Station</dt><dd id="sync-station-shown">{c.station_name}</dd>
        <dt>Device</dt><dd id="sync-device-shown">{`#${c.device_id}`}</dd>
      </dl>
      <p class="sync-state-line">
        <span id="sync-state" class={s.online ? "model-ok" : "model-bad"} data-state={s.online ? "online" : "offline"} aria-live="polite">
          {s.online ? "Online" : "Offline"}{s.problem ? `: ${s.problem}` : ""}
        </span>
        <span id="sync-last-contact" class="muted small">{` · ${lastContactText(s.last_contact, now)}`}</span>
      </p>
      {confirming ? (
        <div id="sync-disconnect-confirm" class="sync-confirm" role="alertdialog" aria-labelledby="sync-disconnect-question">
          <p id="sync-disconnect-question">Disconnect from this router? The outbox is kept and sent when you connect again.</p>
          <button id="sync-disconnect-yes" class="primary" onClick={() => void disconnect()}>Disconnect</button>
          <button id="sync-disconnect-no" onClick={() => { confirmingDisconnect.value = false; }}>Cancel</button>
        </div>
      ) : (
        <button id="sync-disconnect" onClick={() => { confirmingDisconnect.value = true; }}>Disconnect…</button>
      )}
    </section>
  );
}

export function JobRow({ job, isSelected, now }: { job: SyncJob; isSelected: boolean; now: number }) {
  const retryLine = job.state === "retrying" || job.state === "parked" ? retryText(job, now) : "";
  return (
    <li class={`sync-job${isSelected ? " selected" : ""}`} data-id={job.id} data-state={job.state}
      aria-current={isSelected ? "true" : undefined} onMouseDown={() => { selected.value = job.id; }}>
      <span class={`chip sync-chip-${job.state}`} title={STATE_HINTS[job.state]}>{STATE_LABELS[job.state]}</span>
      <span class="sync-job-text">
        <span class="row-title" title={job.description}><strong class="sync-kind">{kindLabel(job.kind)}</strong>{` ${job.description}`}</span>
        {job.state === "uploading" && (
          <progress class="sync-progress" max={100} value={job.percent ?? undefined}
            aria-label={job.percent === null ? "Uploading" : `Uploaded ${job.percent} %`} />
        )}
        {job.reason && (job.state === "retrying" || job.state === "parked") && <span class="sync-reason small">{job.reason}</span>}
        {retryLine && <span class="row-sub">{retryLine}</span>}
      </span>
      <span class="sync-job-actions">
        {canRetry(job) && <button class="sync-retry" title="Send it again now (R)" onClick={() => void retry(job.id)}>Retry now</button>}
        {job.item_id !== null && <button class="sync-open" title="Show its item (O)" onClick={() => openItem(job)}>Open item</button>}
      </span>
    </li>
  );
}

/** The outbox: chips per state, the rows of the chosen one a page at a time. */
export function Outbox({ status: s, now }: { status: SyncStatus; now: number }) {
  const list = useRef<HTMLOListElement>(null);
  const p = page.value;
  const chosen = filter.value;
  const current = selected.value;
  useEffect(() => {
    const row = list.current?.querySelector<HTMLElement>(".sync-job.selected");
    row?.scrollIntoView?.({ block: "nearest" });
  }, [current]);
  const at = offset.value;
  return (
    <section class="sync-outbox" aria-label="Outbox">
      <h3>Outbox</h3>
      <div class="sync-filters" role="group" aria-label="Show rows">
        {FILTERS.map((f) => (
          <button key={f ?? "all"} class={`sync-filter${chosen === f ? " active" : ""}`} data-filter={f ?? "all"}
            aria-pressed={chosen === f ? "true" : "false"} title={f === null ? "Every row" : STATE_HINTS[f]}
            onClick={() => setFilter(f)}>
            {filterLabel(f)} <span class="sync-count">{countFor(s.counts, f).toLocaleString()}</span>
          </button>
        ))}
      </div>
      {s.counts.retrying > 0 && (
        <button id="sync-retry-all" onClick={() => void retry(null)}>{`Retry all now (${s.counts.retrying.toLocaleString()})`}</button>
      )}
      <p id="sync-notice" class="small muted" aria-live="polite">{notice.value}</p>
      {jobsError.value && <p class="model-bad small" id="sync-jobs-error">{jobsError.value}</p>}
      {p === null ? <p class="muted small">Loading…</p>
        : p.jobs.length === 0 ? <p class="muted small" id="sync-empty">{chosen === null ? "The outbox is empty." : `No ${filterLabel(chosen).toLowerCase()} rows.`}</p>
        : (
          <ol id="sync-jobs" class="sync-jobs" ref={list} aria-label={`${filterLabel(chosen)} rows`}>
            {p.jobs.map((j) => <JobRow key={j.id} job={j} isSelected={j.id === current} now={now} />)}
          </ol>
        )}
      {p !== null && p.total > PAGE_SIZE && (
        <div class="sync-pager">
          <button id="sync-prev" disabled={at === 0} onClick={() => goToPage(at - PAGE_SIZE)}>Previous</button>
          <span id="sync-page" class="small muted">{pageText(at, p.jobs.length, p.total)}</span>
          <button id="sync-next" disabled={at + p.jobs.length >= p.total} onClick={() => goToPage(at + PAGE_SIZE)}>Next</button>
        </div>
      )}
    </section>
  );
}

export function SyncScreen() {
  const open = route.value.screen === "sync";
  const s = status.value;
  const now = Date.now();
  return (
    <aside id="sync-panel" class="visit-panel sync-panel" hidden={!open} aria-label="Sync with the router">
      <div class="batch-head"><strong>Sync</strong><button id="sync-close" title="Hide (Esc)" aria-label="Close the sync panel" onClick={() => closeScreen("sync")}>×</button></div>
      <div id="sync-body" class="engine-body">
        {statusError.value && <p class="model-bad" id="sync-status-error" role="alert">{`Sync status unavailable: ${statusError.value}`}</p>}
        {s === null ? <p class="muted">…</p>
          : s.connection === null ? <ConnectForm />
          : <ConnectionView status={s} now={now} />}
        {s !== null && <Outbox status={s} now={now} />}
        <p class="small muted sync-keys">↑/↓ select · R retry now · O open item · Esc close</p>
      </div>
    </aside>
  );
}
