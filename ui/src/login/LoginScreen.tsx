// The login screen, over the whole window while a sign-in is due (router mode): name and
// password, then the authenticator's code (or a recovery code); an account without an
// authenticator enrols one here (QR code drawn as SVG rects, the otpauth link as text, the first
// code) and sees its recovery codes once. Enter submits each step; Esc goes back to the password.
import { useEffect, useRef, useState } from "preact/hooks";
import type { QrCode } from "../bindings/QrCode";
import { route } from "../app/router";
import { keys } from "../keys";
import { account, loginNotice } from "./account";
import {
  backToPassword, busy, challenge, error, isTotpCode, lastName, normalizeCode, qr, qrError, qrRuns, recoveryCodes,
  recoveryCodesSaved, step, submitCode, submitPassword, toggleRecovery, useRecovery,
} from "./login";

/** Modules of white around the code, as the QR standard asks. */
const QUIET = 4;

/** The login screen's keys: Esc leaves a code step; every other key stays with the fields. */
export function loginKeys(event: KeyboardEvent): boolean {
  if (event.key === "Escape" && (step.value === "code" || step.value === "enrol") && !busy.value) {
    backToPassword(null);
    return true;
  }
  return false;
}

export function setupLogin(): void {
  keys.register("login", loginKeys);
}

function value(e: Event): string {
  return (e.target as HTMLInputElement).value;
}

/** Focuses the field as the step comes up (the screen may be mounted while hidden). */
function useFocus(ref: { current: HTMLInputElement | null }, when: unknown[]): void {
  const open = route.value.screen === "login";
  useEffect(() => { if (open) ref.current?.focus(); }, [open, ...when]);
}

export function QrSvg({ code }: { code: QrCode }) {
  const runs = qrRuns(code);
  if (runs === null) return <p class="model-bad small" id="login-qr-error">The QR code is malformed; type the link below into the app instead.</p>;
  const n = code.size + 2 * QUIET;
  return (
    <svg id="login-qr" class="login-qr" viewBox={`0 0 ${n} ${n}`} width={n * 5} height={n * 5} role="img"
      aria-label="QR code of the authenticator link" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
      <rect x={0} y={0} width={n} height={n} fill="#ffffff" />
      {runs.map((r) => <rect key={`${r.x},${r.y}`} class="qr-dark" x={r.x + QUIET} y={r.y + QUIET} width={r.width} height={1} fill="#000000" />)}
    </svg>
  );
}

function PasswordStep() {
  const [name, setName] = useState(lastName.value);
  const [password, setPassword] = useState("");
  const nameField = useRef<HTMLInputElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  useFocus(lastName.value ? passwordField : nameField, []);
  const inFlight = busy.value;
  const refused = error.value;
  // refused: the password is selected, to be typed again
  useEffect(() => { if (refused && !inFlight) passwordField.current?.select(); }, [refused, inFlight]);
  const ready = name.trim() !== "" && password !== "";
  return (
    <form id="login-password-form" class="login-form" aria-label="Name and password"
      onSubmit={(e) => { e.preventDefault(); if (ready) void submitPassword(name, password); }}>
      <label for="login-name">Name</label>
      <input id="login-name" type="text" autoComplete="username" spellcheck={false} maxLength={100} ref={nameField}
        value={name} readOnly={inFlight} onInput={(e) => setName(value(e))} />
      <label for="login-password">Password</label>
      <input id="login-password" type="password" autoComplete="current-password" ref={passwordField}
        value={password} readOnly={inFlight} onInput={(e) => setPassword(value(e))} />
      <div class="login-actions">
        <button id="login-submit" type="submit" class="primary" disabled={inFlight || !ready}>{inFlight ? "Checking…" : "Next"}</button>
      </div>
    </form>
  );
}

/** The code field (or the recovery code's), its submit, the switch between them and Back. */
function CodeForm({ enrol }: { enrol: boolean }) {
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState("");
  const field = useRef<HTMLInputElement>(null);
  const recoveryMode = useRecovery.value && !enrol;
  useFocus(field, [recoveryMode]);
  const inFlight = busy.value;
  const refused = error.value;
  // a wrong code is selected, so the next one replaces it
  useEffect(() => { if (refused && !inFlight) field.current?.select(); }, [refused, inFlight]);
  const ready = recoveryMode ? recovery.trim() !== "" : isTotpCode(normalizeCode(code));
  const c = challenge.value;
  return (
    <form id="login-code-form" class="login-form" aria-label={recoveryMode ? "Recovery code" : "Authenticator code"}
      onSubmit={(e) => { e.preventDefault(); void submitCode(recoveryMode ? recovery : code); }}>
      {recoveryMode ? (
        <>
          <label for="login-recovery">Recovery code</label>
          <input key="recovery" id="login-recovery" type="text" autoComplete="off" spellcheck={false} maxLength={64} ref={field} autoFocus
            value={recovery} readOnly={inFlight} onInput={(e) => setRecovery(value(e))} />
        </>
      ) : (
        <>
          <label for="login-code">{enrol ? "Code shown by the app" : "Code from your authenticator app"}</label>
          <input key="code" id="login-code" class="login-code" type="text" inputMode="numeric" pattern="[0-9 ]*" maxLength={7}
            autoComplete="one-time-code" placeholder="123456" ref={field} autoFocus
            value={code} readOnly={inFlight} onInput={(e) => setCode(value(e))} />
        </>
      )}
      <div class="login-actions">
        <button id="login-submit" type="submit" class="primary" disabled={inFlight || !ready}>
          {inFlight ? "Checking…" : enrol ? "Confirm" : "Sign in"}
        </button>
        {!enrol && (
          <button id="login-recovery-toggle" type="button" class="login-link" disabled={inFlight} onClick={toggleRecovery}>
            {recoveryMode ? "Use the authenticator's code" : "Use a recovery code instead"}
          </button>
        )}
        <button id="login-back" type="button" disabled={inFlight} onClick={() => backToPassword(null)}>Back</button>
      </div>
      {c && <p class="small muted" id="login-expires">{`This step must be done by ${new Date(c.expires_at).toLocaleTimeString()}.`}</p>}
    </form>
  );
}

function EnrolStep() {
  const c = challenge.value;
  const code = qr.value;
  return (
    <div class="login-enrol">
      <p>This account needs an authenticator app for its second step. Scan the QR code with an authenticator app on
        your phone (any app that shows 6-digit codes), then type the code it shows.</p>
      {code ? <QrSvg code={code} />
        : qrError.value ? <p class="model-bad small" id="login-qr-error">{qrError.value}</p>
        : <p class="muted small">Drawing the QR code…</p>}
      <p class="small muted">No camera? Add the account in the app with this link (it holds the secret: keep it to yourself):</p>
      <code id="otpauth-url" class="login-otpauth">{c?.otpauth_url ?? ""}</code>
      <CodeForm enrol />
    </div>
  );
}

function RecoveryCodesStep() {
  const done = useRef<HTMLButtonElement>(null);
  useEffect(() => { done.current?.focus(); }, []);
  return (
    <div class="login-codes">
      <h3>Your recovery codes</h3>
      <p>Each code signs you in once when your authenticator is not at hand. Save them somewhere safe now (a password
        manager, or printed): they are shown this once.</p>
      <ol id="recovery-codes" class="recovery-codes">
        {recoveryCodes.value.map((c) => <li key={c}><code>{c}</code></li>)}
      </ol>
      <button id="recovery-done" class="primary" ref={done} onClick={() => void recoveryCodesSaved()}>I have saved them</button>
    </div>
  );
}

const TITLES = { password: "Sign in", code: "Two-step sign-in", enrol: "Set up your authenticator", codes: "Signed in" } as const;

export function LoginScreen() {
  const open = route.value.screen === "login";
  const s = step.value;
  const url = account.value?.router_url;
  const message = error.value ?? loginNotice.value;
  return (
    <section id="login" class="login" hidden={!open} aria-label="Sign in">
      <div class="login-card" data-step={s}>
        <h2>{TITLES[s]}</h2>
        {url && s !== "codes" && <p class="small muted" id="login-router">{`Router: ${url}`}</p>}
        {s === "password" ? <PasswordStep />
          : s === "code" ? <CodeForm key="code" enrol={false} />
          : s === "enrol" ? <EnrolStep />
          : <RecoveryCodesStep />}
        <p id="login-error" class="login-error item-error-text" role="alert">{message ?? ""}</p>
      </div>
    </section>
  );
}
