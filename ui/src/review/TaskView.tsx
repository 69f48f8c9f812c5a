// The task view: the result being decided (a compliance verdict with its photo, rules and
// category, or a document's fields), editable in place; the reject picker; the sign-in prompt
// when nobody is working; and, when no task could be claimed, why (in agreement with the queue).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, blobUrl } from "../api";
import { REJECT_REASONS, REJECT_REASON_LABELS, ROUTING_REASON_LABELS } from "../bindings/constants";
import type { ReviewTask } from "../bindings/ReviewTask";
import { doubtfulOf, emptyTaskMessage, fieldsOf, llmSummaryOf } from "./fields";
import type { Workbench } from "./workbench";

interface ComplianceOutput {
  valid: boolean;
  invalid_reasons: string[];
  suggestions: string[];
  category: { predicted: string | null; verdict: string; similarity: number; margin: number } | null;
  rules: { id: string; passed: boolean | null; confidence: number | null; evidence: string }[];
}

function Reasons({ task }: { task: ReviewTask }) {
  return <p class="review-reasons">{task.reasons.map((r) => <span class={`chip reason-${r}`}>{ROUTING_REASON_LABELS[r]}</span>)}</p>;
}

function ComplianceCard({ bench, task, readOnly }: { bench: Workbench; task: ReviewTask; readOnly: string | null }) {
  const out = task.model_output as ComplianceOutput;
  const edits = bench.edits.value;
  const [photo, setPhoto] = useState<string | null>(null);
  useEffect(() => {
    void api.getItem(task.item_id).then((d) => { if (d.item.blob_sha256) setPhoto(blobUrl(d.item.blob_sha256)); }).catch(() => {});
  }, [task.item_id]);
  const valid = edits.has("valid") ? edits.get("valid") === "true" : out.valid;
  const predicted = edits.get("category") ?? out.category?.predicted ?? "";
  return (
    <div class="review-card" data-task={task.id}>
      <p><strong>Compliance</strong>{` · item ${task.item_id} · ${task.store_id} · lowest confidence ${Math.round(task.confidence * 100)} %`}</p>
      <Reasons task={task} />
      {readOnly && <p class="review-readonly" id="review-readonly">{readOnly}</p>}
      <div class="review-compliance">
        <img class="review-photo" alt="" src={photo ?? undefined} />
        <div>
          <p id="review-valid" data-valid={String(valid)} class={valid ? "model-ok" : "model-bad"}>
            {valid ? "Valid" : `Invalid${out.invalid_reasons.length ? `: ${out.invalid_reasons.join(", ")}` : ""}`}
            {edits.has("valid") ? " (your correction)" : ""}<span class="small muted">  V toggles</span>
          </p>
          <label>Category{" "}
            <select id="review-category" aria-label="Category" disabled={readOnly !== null} value={predicted}
              onChange={(e) => {
                const value = (e.target as HTMLSelectElement).value;
                bench.edit("category", value !== (out.category?.predicted ?? "") ? value : null);
              }}
              onKeyDown={(e) => { if (e.key === "Escape" || e.key === "Enter") { e.preventDefault(); (e.target as HTMLSelectElement).blur(); } }}>
              <option value="">—</option>
              {bench.categories.value.map((c) => <option value={c}>{c}</option>)}
            </select>
            <span class="small muted">{`  C to choose · gate: ${out.category?.verdict ?? "—"}`}</span>
          </label>
          <table class="review-fields review-rules"><tbody>
            {out.rules.map((r) => {
              const key = `rule:${r.id}`;
              const passed = edits.has(key) ? edits.get(key) === "true" : r.passed;
              const doubtful = r.passed === false || (r.confidence !== null && r.confidence < 0.8) || doubtfulOf(task).includes(r.id);
              return (
                <tr key={r.id} data-rule={r.id} class={`${doubtful ? "doubtful" : ""}${edits.has(key) ? " edited" : ""}`}>
                  <th>{r.id}</th>
                  <td class={passed === false ? "model-bad" : ""}>
                    <button class="rule-toggle" data-rule-toggle={r.id} disabled={readOnly !== null || r.passed === null}
                      title="Space: mark this rule passed / failed"
                      onClick={() => { if (r.passed !== null) bench.toggleRule(r.id, r.passed); }}>
                      {passed === null ? "pending" : passed ? "passed" : "failed"}
                    </button>
                    {edits.has(key) && <span class="small"> (your correction)</span>}
                  </td>
                  <td class="num">{r.confidence === null ? "" : `${Math.round(r.confidence * 100)} %`}</td>
                  <td class="small muted">{r.evidence}</td>
                </tr>
              );
            })}
          </tbody></table>
        </div>
      </div>
      {edits.size > 0 && <p class="small" id="review-edits">Corrected — A saves the correction</p>}
    </div>
  );
}

function FieldsCard({ bench, task, readOnly }: { bench: Workbench; task: ReviewTask; readOnly: string | null }) {
  const edits = bench.edits.value;
  const fields = fieldsOf(task.model_output, doubtfulOf(task));
  return (
    <div class="review-card" data-task={task.id}>
      <p><strong>{`${task.kind[0].toUpperCase()}${task.kind.slice(1)}`}</strong>{` · item ${task.item_id} · ${task.store_id} · lowest confidence ${Math.round(task.confidence * 100)} %`}</p>
      <Reasons task={task} />
      {readOnly && <p class="review-readonly" id="review-readonly">{readOnly}</p>}
      <table class="review-fields"><tbody>
        {fields.map((f) => (
          <tr key={f.name} data-field={f.name} class={`${f.doubtful ? "doubtful" : ""}${edits.has(f.name) ? " edited" : ""}`}>
            <th>{f.name}</th>
            <td>
              {/* uncontrolled: what the reviewer types is theirs until Enter or Esc */}
              <input class="review-input" data-field={f.name} defaultValue={edits.get(f.name) ?? f.value} readOnly={readOnly !== null} aria-label={f.name}
                onKeyDown={(event) => {
                  const input = event.currentTarget as HTMLInputElement;
                  if (event.key === "Enter") {
                    event.preventDefault();
                    bench.edit(f.name, input.value !== f.value ? input.value : null);
                    input.blur();
                  } else if (event.key === "Escape") {
                    event.preventDefault();
                    bench.edit(f.name, null);
                    input.value = f.value;
                    input.blur();
                  }
                }} />
            </td>
            <td class={f.confidence < 0.8 ? "low-confidence num" : "num"}>{`${Math.round(f.confidence * 100)} %`}</td>
            <td class="item-error-text small">{f.failed.join(", ")}</td>
            <td class="small second-opinion" data-second={f.second === null ? "none" : f.second.agrees ? "agrees" : "differs"}>
              {f.second === null ? "" : f.second.agrees ? "LLM agrees" : `LLM read: ${f.second.value}`}
            </td>
          </tr>
        ))}
      </tbody></table>
      {(() => {
        const llm = llmSummaryOf(task.model_output);
        return llm && (
          <div class="second-opinion-summary" id="review-llm-summary">
            <p class="small"><strong>{`LLM reading · outcome: ${llm.outcome.replace("_", " ")}`}</strong></p>
            <ul class="small">{llm.sentences.map((t, i) => <li key={i}>{t}</li>)}</ul>
          </div>
        );
      })()}
      {edits.size > 0 && <p class="small" id="review-edits">{`${edits.size} field${edits.size === 1 ? "" : "s"} edited — A saves the correction`}</p>}
    </div>
  );
}

function RejectPicker({ bench }: { bench: Workbench }) {
  const select = useRef<HTMLSelectElement>(null);
  useEffect(() => select.current?.focus(), []);
  return (
    <div class="review-reject">
      <label>Reject because{" "}
        <select id="review-reject-reason" aria-label="Reason" ref={select}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              bench.reject(REJECT_REASONS.find((r) => r === select.current?.value) ?? null);
            } else if (event.key === "Escape") {
              event.preventDefault();
              bench.reject(null);
            }
          }}>
          {REJECT_REASONS.map((r) => <option value={r}>{REJECT_REASON_LABELS[r]}</option>)}
        </select>
      </label>
      <span class="small muted"> Enter to confirm, Esc to cancel</span>
    </div>
  );
}

function SignIn({ bench }: { bench: Workbench }) {
  const input = useRef<HTMLInputElement>(null);
  // the screen may be mounted while hidden: the prompt takes the focus as it comes up
  const open = bench.open.value;
  useEffect(() => { if (open) input.current?.focus(); }, [open]);
  return (
    <div class="review-start">
      <label>Reviewer{" "}
        <input id="review-reviewer" type="text" placeholder="Your name" maxLength={100} ref={input}
          onKeyDown={(event) => {
            const name = (event.currentTarget as HTMLInputElement).value;
            if (event.key === "Enter" && name.trim()) void bench.signIn(name);
          }} />
      </label>
      <p class="small muted">Decisions are recorded under this name.</p>
    </div>
  );
}

function Card({ bench, task, readOnly }: { bench: Workbench; task: ReviewTask; readOnly: string | null }) {
  return task.kind === "compliance"
    ? <ComplianceCard key={task.id} bench={bench} task={task} readOnly={readOnly} />
    : <FieldsCard key={task.id} bench={bench} task={task} readOnly={readOnly} />;
}

export function TaskView({ bench, taskRef }: { bench: Workbench; taskRef: { current: HTMLDivElement | null } }) {
  const reviewer = bench.reviewer.value;
  const viewing = bench.viewing.value;
  const current = bench.current.value;
  return (
    <div id="review-task" class="review-task" ref={taskRef}>
      {!reviewer ? <SignIn bench={bench} />
        : viewing ? <Card bench={bench} task={viewing} readOnly="Decided — U undoes it, J goes back" />
        : current ? <>{bench.rejecting.value && <RejectPicker bench={bench} />}<Card bench={bench} task={current} readOnly={null} /></>
        : bench.loadingNext.value ? <p class="muted" id="review-loading">Loading the next task…</p>
        : <p class="muted" id="review-empty">{emptyTaskMessage(bench.queueTotal.value, bench.queueListed.value, reviewer)}</p>}
    </div>
  );
}
