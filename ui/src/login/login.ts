// The login flow's state and moves: name and password, then a code under the router's challenge
// (a TOTP code or a recovery code), or, for an account without an authenticator yet, its
// enrolment (QR code, first code, the 10 recovery codes shown once). The pure parts (messages,
// expiry, the QR code's runs) are unit-tested.
import { signal } from "@preact/signals";
import { accountApi, errorMessage, isApiError } from "../api";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { LoginChallenge } from "../bindings/LoginChallenge";
import type { QrCode } from "../bindings/QrCode";
import { showBanner } from "../app/state";
import { SESSION_ENDED, loginNotice, signedInWith } from "./account";

export type Step = "password" | "code" | "enrol" | "codes";

export const MESSAGES = {
  bad_credentials: "The name or password is wrong.",
  bad_code: "That code is wrong or was already used. Wait for the next code.",
  session_expired: SESSION_ENDED,
  challenge_expired: "The sign-in took too long: enter your password again.",
} as const;

/** A failed login call as the user reads it (locked: the router's message says until when). */
export function loginErrorMessage(error: unknown): string {
  if (isApiError(error)) {
    switch (error.code) {
      case "bad_credentials": return MESSAGES.bad_credentials;
      // the router tells a clock off by minutes apart from a wrong code: that hint is kept
      case "bad_code": return /clock/i.test(error.message) ? sentence(error.message) : MESSAGES.bad_code;
      case "session_expired": return MESSAGES.session_expired;
      default: return error.message;
    }
  }
  return errorMessage(error);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Whether a challenge is past its `expires_at` (an unreadable time counts as expired). */
export function challengeExpired(challenge: LoginChallenge, now: number): boolean {
  const at = Date.parse(challenge.expires_at);
  return isNaN(at) || now >= at;
}

/** A TOTP code as typed ("123 456"): digits only. */
export function normalizeCode(typed: string): string {
  return typed.replace(/[\s-]/g, "");
}

export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

export interface Run {
  x: number;
  y: number;
  width: number;
}

/** The dark modules of a QR code as horizontal runs (one SVG rect each); null when malformed. */
export function qrRuns(qr: QrCode): Run[] | null {
  const { size, modules } = qr;
  if (!Number.isInteger(size) || size <= 0 || modules.length !== size * size) return null;
  const runs: Run[] = [];
  for (let y = 0; y < size; y++) {
    let x = 0;
    while (x < size) {
      if (!modules[y * size + x]) { x++; continue; }
      const start = x;
      while (x < size && modules[y * size + x]) x++;
      runs.push({ x: start, y, width: x - start });
    }
  }
  return runs;
}

// --- State --------------------------------------------------------------------------------------

export const step = signal<Step>("password");
/** The name typed last (kept when the flow goes back to the password). */
export const lastName = signal("");
export const challenge = signal<LoginChallenge | null>(null);
/** The enrolment's QR code, and why it could not be drawn. */
export const qr = signal<QrCode | null>(null);
export const qrError = signal<string | null>(null);
export const error = signal<string | null>(null);
export const busy = signal(false);
/** The code step asks for a recovery code instead of the authenticator's. */
export const useRecovery = signal(false);
/** After enrolment: the recovery codes, shown once. */
export const recoveryCodes = signal<string[]>([]);

/** The status the sign-in answered, applied once the recovery codes were seen. */
let signedInStatus: AccountStatus | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

function clearExpiry(): void {
  if (expiryTimer !== undefined) clearTimeout(expiryTimer);
  expiryTimer = undefined;
}

/** Back to the first step (a challenge expired or refused), saying why. */
export function backToPassword(message: string | null): void {
  clearExpiry();
  challenge.value = null;
  qr.value = null;
  qrError.value = null;
  useRecovery.value = false;
  step.value = "password";
  error.value = message;
}

/** The whole flow back to its start (after a sign-in, or for a test). */
export function resetLogin(): void {
  backToPassword(null);
  busy.value = false;
  recoveryCodes.value = [];
  signedInStatus = null;
}

async function loadQr(c: LoginChallenge): Promise<void> {
  if (!c.otpauth_url) { qrError.value = "The router sent no authenticator link."; return; }
  try {
    const code = await accountApi.qrCode(c.otpauth_url);
    if (challenge.value === c) qr.value = code;
  } catch (e) {
    if (challenge.value === c) qrError.value = `The QR code could not be made (${loginErrorMessage(e)}); type the link's secret into the app instead.`;
  }
}

function startChallenge(c: LoginChallenge): void {
  clearExpiry();
  challenge.value = c;
  useRecovery.value = false;
  qr.value = null;
  qrError.value = null;
  if (c.next === "enrol_totp") {
    step.value = "enrol";
    void loadQr(c);
  } else {
    step.value = "code";
  }
  const ms = Date.parse(c.expires_at) - Date.now();
  // past its time the challenge is dead: the flow goes back to the password by itself
  expiryTimer = setTimeout(() => {
    if (challenge.value === c && !busy.value) backToPassword(MESSAGES.challenge_expired);
  }, Math.min(Math.max(0, isNaN(ms) ? 0 : ms), 2 ** 31 - 1));
}

export async function submitPassword(name: string, password: string): Promise<void> {
  if (busy.value || name.trim() === "" || password === "") return;
  lastName.value = name.trim();
  busy.value = true;
  error.value = null;
  loginNotice.value = null;
  try {
    startChallenge(await accountApi.loginPassword(name.trim(), password));
  } catch (e) {
    error.value = loginErrorMessage(e);
  } finally {
    busy.value = false;
  }
}

async function finish(status: AccountStatus): Promise<void> {
  resetLogin();
  await signedInWith(status);
}

/** The second step: the authenticator's code, or (`useRecovery`) a recovery code. */
export async function submitCode(typed: string): Promise<void> {
  const c = challenge.value;
  if (c === null || busy.value) return;
  if (challengeExpired(c, Date.now())) { backToPassword(MESSAGES.challenge_expired); return; }
  const recovery = useRecovery.value && c.next === "code";
  const code = recovery ? typed.trim() : normalizeCode(typed);
  if (recovery ? code === "" : !isTotpCode(code)) {
    error.value = recovery ? "Type one of your recovery codes." : "Type the 6 digits your authenticator app shows.";
    return;
  }
  busy.value = true;
  error.value = null;
  try {
    const outcome = await accountApi.loginCode(c.challenge, recovery ? null : code, recovery ? code : null);
    clearExpiry();
    challenge.value = null;
    if (outcome.recovery_codes.length > 0) {
      signedInStatus = outcome.status;
      recoveryCodes.value = outcome.recovery_codes;
      step.value = "codes";
      return;
    }
    const left = outcome.recovery_codes_left;
    if (left !== null) showBanner(`Signed in with a recovery code: ${left} recovery code${left === 1 ? "" : "s"} left.`);
    await finish(outcome.status);
  } catch (e) {
    // a dead challenge (expired, or the account locked under it) needs the password again
    if (isApiError(e) && (e.code === "session_expired" || e.code === "account_locked")) backToPassword(loginErrorMessage(e));
    else error.value = loginErrorMessage(e);
  } finally {
    busy.value = false;
  }
}

/** "I have saved them": the recovery codes are gone from the screen, the account is in. */
export async function recoveryCodesSaved(): Promise<void> {
  const status = signedInStatus;
  if (status === null) return;
  await finish(status);
}

export function toggleRecovery(): void {
  useRecovery.value = !useRecovery.value;
  error.value = null;
}
