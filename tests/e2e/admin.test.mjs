// End-to-end test of the admin plane: the built app under tauri-driver (Xvfb), `review-router`
// and two fake LLM providers as their own processes on loopback, gnome-keyring on the run's own
// D-Bus bus. An admin made by the router's command enrols TOTP in the app (the test reads the
// secret from the otpauth URL shown, as a phone scans the QR code), signs in, and sees the
// dashboards of a load run in which the primary ran out of quota; exports CSV; a reviewer's
// session is refused the admin views by the router; five wrong codes lock the account.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Session, freePort, startDriver } from "./webdriver.mjs";
import { addAccount, enrolThroughUi, fill, loginError, totp, typeCode, typePassword } from "./accounts.mjs";
import { Child, rowsOf, saveAs, startKeyring } from "./processes.mjs";

const app = process.env.REVIEW_STATION_BIN;
const routerBin = process.env.REVIEW_ROUTER_BIN;
const fakeBin = process.env.FAKE_LLM_BIN;
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(tmpdir(), "review-station-e2e");
const ADMIN_KEY = "admin-key-of-the-e2e-tests";
const SECRET_KEY = "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";
const LOAD = 30;
/** The primary's quota runs out at its 9th request (the router takes it out of rotation). */
const QUOTA_AT = 9;
let driver;

before(async () => {
  for (const [name, bin] of [["REVIEW_STATION_BIN", app], ["REVIEW_ROUTER_BIN", routerBin], ["FAKE_LLM_BIN", fakeBin]]) {
    assert.ok(bin && existsSync(bin), `${name} must point at the built binary (got ${bin}); scripts/test.sh sets it`);
  }
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, "no D-Bus session bus: run the e2e tests under dbus-run-session, as scripts/test.sh does");
  mkdirSync(artifacts, { recursive: true });
  driver = await startDriver();
});

after(() => driver?.stop());

function routerConfig(port, gemini, bedrock) {
  return `listen = "127.0.0.1:${port}"
database = "router.db"
[admission]
per_key_rps = 100
per_key_burst = 1000
[routing]
primary = "gemini"
secondary = "bedrock"
spill_rpm = 100000
spill_rps10 = 100000
spill_share = 0.5
quota_disable_secs = 3600
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "http://${gemini}/v1"
max_in_flight = 8
timeout_ms = 10000
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "http://${bedrock}/v1"
max_in_flight = 8
timeout_ms = 10000
[[models]]
name = "reasoning"
[models.serve.gemini]
model = "gemini-2.5-flash"
prices = [{ from = "2026-01-01", input = 0.30, output = 2.50 }]
[models.serve.bedrock]
model = "qwen3-32b"
prices = [{ from = "2026-01-01", input = 0.15, output = 0.60 }]
`;
}

/** Calls a station command from the page, as a compromised or careless UI could, and answers
 *  `{ok}` or `{err}`. */
async function invoke(session, command, args) {
  await session.script(`window.__probe = null;
    window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((ok) => { window.__probe = { ok }; }, (err) => { window.__probe = { err }; });`,
  command, args);
  return session.waitFor(`${command} to answer`, () => session.script("return window.__probe;"), 30_000);
}

const percent = (session, backend, measure) => session.script(
  "const td = document.querySelector(`#shares-table td[data-backend=\"${arguments[0]}\"][data-measure=\"${arguments[1]}\"]`); return td ? parseFloat(td.textContent) : null;",
  backend, measure);

test("an admin enrols TOTP and sees the dashboards of a load run with a quota failure; a reviewer is refused them by the router; five wrong codes lock the account", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-admin-"));
  const dataDir = path.join(work, "station");
  const routerDir = path.join(work, "router");
  for (const d of [dataDir, routerDir]) mkdirSync(d);
  const children = [];
  const routerToml = path.join(routerDir, "router.toml");
  let session;
  const started = Date.now();
  const mark = (what) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  try {
    children.push(await startKeyring(path.join(work, "keyring-home")));
    const geminiScript = path.join(work, "gemini.json");
    writeFileSync(geminiScript, JSON.stringify({ latency: { fixed_ms: 15 },
      faults: [{ kind: "quota", after_requests: QUOTA_AT - 1, until_requests: QUOTA_AT }] }));
    const gemini = new Child("admin-gemini", fakeBin, ["--listen", "127.0.0.1:0", "--provider", "gemini", "--model", "gemini-2.5-flash", "--script", geminiScript]);
    const bedrock = new Child("admin-bedrock", fakeBin, ["--listen", "127.0.0.1:0", "--provider", "openai", "--model", "qwen3-32b"]);
    children.push(gemini, bedrock);
    const port = await freePort();
    writeFileSync(routerToml, routerConfig(port, await gemini.listening(), await bedrock.listening()));
    const routerUrl = `http://127.0.0.1:${port}`;
    const router = new Child("admin-router", routerBin, ["--config", routerToml],
      { env: { ...process.env, REVIEW_ROUTER_ADMIN_KEY: ADMIN_KEY, REVIEW_ROUTER_SECRET_KEY: SECRET_KEY, REVIEW_ROUTER_LOG: "warn" } });
    children.push(router);
    assert.equal(await router.listening(), `127.0.0.1:${port}`);
    // the first admin comes from the router's own command (there is no default password)
    addAccount(routerBin, routerToml, "root", "admin");
    addAccount(routerBin, routerToml, "rita", "reviewer");
    mark("router, fakes and accounts up");

    // The load run: a client's requests through the router; the primary's quota runs out.
    const clientKey = execFileSync(routerBin, ["--config", routerToml, "keys", "create", "load-client"], { encoding: "utf8" }).trim();
    for (let i = 0; i < LOAD; i++) {
      const answer = await fetch(`${routerUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json", "x-store-id": "main-street" },
        body: JSON.stringify({ model: "reasoning", messages: [{ role: "user", content: `Is shelf ${i} full?` }] }),
      });
      assert.equal(answer.status, 200, await answer.clone().text());
    }
    mark(`${LOAD} requests through the router`);

    // An enrolment code, as the operator's tool makes it; the station connects with it.
    const made = await fetch(`${routerUrl}/admin/v1/enrolment-codes`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ note: "e2e admin test" }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const { code } = await made.json();

    session = await Session.start(driver.base, app, ["--data-dir", dataDir]);
    await session.waitFor("the first screen", () => session.script("return document.querySelector('#detail .empty') !== null"), 60_000);
    // the session chrome reads the station's account state on its own, after the first screen
    const mode = await session.waitFor("the session mode", () => session.script("return document.getElementById('session')?.dataset.mode ?? null;"));
    assert.equal(mode, "local", "never connected: local, and marked so");
    await session.press("s");
    await session.waitFor("the connect form", () => session.script("return document.getElementById('sync-connect') !== null;"));
    await fill(session, "#sync-url", routerUrl);
    await fill(session, "#sync-code", code);
    await fill(session, "#sync-station-name", "hq-desk");
    await session.clickCss("#sync-connect-button");

    // Connected: the login screen. The admin enrols the authenticator, first code, recovery codes.
    const { codes, secret } = await enrolThroughUi(session, "root");
    assert.equal(codes.length, 10);
    await session.waitFor("signed in as root", () => session.script(
      "return document.getElementById('session-name')?.textContent === 'root' && document.getElementById('session-role')?.dataset.role === 'admin';"), 30_000);
    mark("root enrolled TOTP and signed in");

    // New recovery codes from the account menu, under the next step's code (this step's was
    // just used: each step signs once)
    await session.clickCss("#session-name");
    await fill(session, "#account-code", totp(secret, 30));
    await session.clickCss("#account-regenerate");
    const fresh = await session.waitFor("the new recovery codes", async () => {
      const error = await session.script("return document.getElementById('account-menu-error')?.textContent ?? '';");
      if (error) throw new Error(`new codes refused: ${error}`);
      return session.script("const el = document.getElementById('account-recovery-codes'); return el ? [...el.children].map((c) => c.textContent.trim()) : null;");
    }, 30_000);
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((c) => !codes.includes(c)), "new codes, not the old ones");
    const kept = rowsOf(path.join(routerDir, "router.db"),
      "SELECT count(*) AS n FROM recovery_codes WHERE account_id = (SELECT id FROM accounts WHERE name = 'root')");
    assert.equal(kept[0].n, 10, "the router keeps the 10 new ones only");
    await session.clickCss("#account-codes-done");
    mark("new recovery codes made from the account menu");

    // The dashboards (A): decided share against actual calls differ after the quota failure.
    await session.press("\uE00C");
    await session.clickCss("#admin-button");
    await session.waitFor("the shares table", async () => (await percent(session, "gemini", "decided")) !== null, 60_000);
    const shares = {};
    for (const backend of ["gemini", "bedrock"]) {
      for (const measure of ["decided", "calls", "answered"]) shares[`${backend}.${measure}`] = await percent(session, backend, measure);
    }
    mark(`shares: ${JSON.stringify(shares)}`);
    assert.ok(shares["gemini.decided"] > shares["gemini.answered"], JSON.stringify(shares));
    assert.notEqual(shares["gemini.decided"], shares["gemini.calls"], JSON.stringify(shares));
    const windowText = await session.script("return document.getElementById('admin-window')?.textContent ?? '';");
    assert.match(windowText, /\d{4}-\d\d-\d\d/, windowText);
    for (const chart of ["chart-cost", "chart-tokens", "chart-latency", "chart-shares"]) {
      await session.waitFor(`${chart} drawn`, () => session.script("return document.querySelector(`#${arguments[0]} canvas`) !== null;", chart), 30_000);
    }
    await session.waitFor("the recent requests", () => session.script("return document.querySelectorAll('#requests-table tbody tr').length >= 10;"), 30_000);
    await session.waitFor("the live panel", () => session.script("return document.querySelector('#live-panel tr[data-backend=\"gemini\"]') !== null;"), 30_000);
    assert.match(await session.script("return document.querySelector('#live-panel tr[data-backend=\"gemini\"]').textContent;"), /quota/i,
      "the primary is out of rotation for its quota, with until when");
    writeFileSync(path.join(artifacts, "admin-dashboards.png"), await session.screenshot());

    // CSV export of the shares, through the native save dialog.
    const csvPath = path.join(work, "shares.csv");
    await session.clickCss("#export-shares");
    await saveAs(session, "Save the table as CSV", csvPath);
    await session.waitFor("the CSV saved", () => session.script("return /rows? saved/.test(document.getElementById('export-shares-status')?.textContent ?? '');"), 30_000);
    const csv = readFileSync(csvPath, "utf8");
    assert.match(csv.split("\n")[0], /backend/, csv);
    assert.ok(csv.includes("gemini") && csv.includes("bedrock"), csv);
    mark("shares exported as CSV");

    // A reviewer: no admin entry, and the router refuses the admin commands for her session.
    await session.press("\uE00C");
    await session.clickCss("#sign-out");
    const rita = await enrolThroughUi(session, "rita");
    await session.waitFor("signed in as rita", () => session.script("return document.getElementById('session-name')?.textContent === 'rita';"), 30_000);
    assert.equal(await session.script("return document.getElementById('admin-button');"), null, "no admin entry for a reviewer");
    const refused = await invoke(session, "admin_dashboard", { query: {} });
    assert.equal(refused.err?.code, "forbidden", JSON.stringify(refused));
    assert.match(refused.err.message, /rita is signed in as a reviewer/, "the router's refusal");
    const live = await invoke(session, "admin_live", {});
    assert.equal(live.err?.code, "forbidden", JSON.stringify(live));
    mark("a reviewer's session refused the admin views by the router");

    // Five wrong codes lock the account for the stated time, and the right password then too.
    await session.clickCss("#sign-out");
    await typePassword(session, "rita");
    for (let attempt = 1; attempt <= 5; attempt++) {
      await typeCode(session, attempt === 1 ? totp(rita.secret, -300) : "000000");
      const error = await session.waitFor(`the refusal of code ${attempt}`, async () => (await loginError(session)) || null, 30_000);
      if (attempt < 5) assert.match(error, attempt === 1 ? /clock/ : /wrong or was (already )?used/i, error);
      else assert.match(error, /locked until \d{4}-\d\d-\d\dT/, error);
    }
    writeFileSync(path.join(artifacts, "admin-locked.png"), await session.screenshot());
    const lockedAt = await loginError(session);
    mark(`locked: ${lockedAt}`);
    // the same (right) password is refused now, without a hint of which factor was wrong
    await session.press("\uE00C"); // Esc: back to the password step
    await typePassword(session, "rita");
    const again = await session.waitFor("the lock said again", async () => (await loginError(session)) || null, 30_000);
    assert.match(again, /locked until/, again);
    mark("done");
  } catch (error) {
    if (session) writeFileSync(path.join(artifacts, "admin-failed.png"), await session.screenshot().catch(() => Buffer.alloc(0)));
    for (const child of children) child.saveLog();
    throw error;
  } finally {
    await session?.close();
    for (const child of children.reverse()) await child.kill("SIGTERM").catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
