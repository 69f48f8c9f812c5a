// Router accounts for the end-to-end tests: the operator's command that makes an account (its
// password on stdin, as a person types it), an authenticator app's TOTP codes (RFC 6238:
// HMAC-SHA-1, 6 digits, 30 s) from the otpauth URL the app shows, and the sign-in through the
// app's login screen, typed as a person would.
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";

export const PASSWORD = "a long enough passphrase";

/** `review-router users add NAME --role ROLE`, the password on stdin. */
export function addAccount(routerBin, routerToml, name, role, password = PASSWORD) {
  execFileSync(routerBin, ["--config", routerToml, "users", "add", name, "--role", role], { input: `${password}\n`, encoding: "utf8" });
}

/** Base32 (RFC 4648, no padding needed) to bytes. */
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The secret of an `otpauth://totp/…?secret=…` URL. */
export function secretOf(url) {
  const secret = new URL(url).searchParams.get("secret");
  if (!secret) throw new Error(`no secret in ${url}`);
  return base32(secret);
}

/** The code an authenticator shows `offsetSeconds` from now (RFC 6238 with SHA-1, 6 digits). */
export function totp(secret, offsetSeconds = 0) {
  const step = BigInt(Math.floor((Date.now() / 1000 + offsetSeconds) / 30));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(step);
  const mac = createHmac("sha1", secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

/** Types into a field as a user would: a click, the old text selected, the new one typed. */
export async function fill(session, css, text) {
  await session.clickCss(css);
  await session.script("const el = document.querySelector(arguments[0]); el.focus(); el.select();", css);
  await session.press(...text);
  await session.waitFor(`${css} to read ${text}`, async () => {
    const value = await session.script("return document.querySelector(arguments[0]).value;", css);
    if (value !== text) throw new Error(`it reads ${JSON.stringify(value)}, focus on #${await session.script("return document.activeElement?.id ?? '';")}`);
    return true;
  }, 5_000);
}

/** The login screen's error text ("" when none). */
export const loginError = (session) => session.script("return document.getElementById('login-error')?.textContent ?? '';");

/** Password step on the open login screen. */
export async function typePassword(session, name, password = PASSWORD) {
  // Shown, not just mounted (the screen stays in the page while hidden), and its field focused:
  // the screen focuses a field as it opens, and keys typed before would land in the other one.
  await session.waitFor("the login screen", () => session.script(
    "const s = document.getElementById('login'); return s !== null && !s.hidden && document.getElementById('login-name') !== null && document.activeElement?.closest('#login-password-form') != null;"), 30_000);
  await fill(session, "#login-name", name);
  await fill(session, "#login-password", password);
  await session.clickCss("#login-submit");
}

/** Types a code in the code step and submits it. */
export async function typeCode(session, code) {
  await session.waitFor("the code step", () => session.script("return document.getElementById('login-code') !== null;"), 30_000);
  await fill(session, "#login-code", code);
  await session.clickCss("#login-submit");
}

/**
 * A first sign-in: the password, the authenticator enrolled from the otpauth URL the screen
 * shows (as a phone scans the QR code), the first code, the recovery codes acknowledged.
 * Answers the TOTP secret and the recovery codes shown.
 */
export async function enrolThroughUi(session, name, password = PASSWORD) {
  await typePassword(session, name, password);
  const url = await session.waitFor("the otpauth URL", async () => {
    const error = await loginError(session);
    if (error) throw new Error(`sign-in refused: ${error}`);
    return session.script("return document.getElementById('otpauth-url')?.textContent || null;");
  }, 30_000);
  const qr = await session.script("return document.querySelectorAll('svg rect').length;");
  if (!(qr > 50)) throw new Error(`no QR code drawn (${qr} squares)`);
  const secret = secretOf(url.trim());
  await typeCode(session, totp(secret));
  const codes = await session.waitFor("the recovery codes", async () => {
    const error = await loginError(session);
    if (error) throw new Error(`enrolment refused: ${error}`);
    return session.script("const el = document.getElementById('recovery-codes'); return el ? [...el.children].map((c) => c.textContent.trim()).filter(Boolean) : null;");
  }, 30_000);
  await session.clickCss("#recovery-done");
  return { secret, codes };
}
