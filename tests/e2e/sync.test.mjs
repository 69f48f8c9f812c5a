// End-to-end test of the sync with the real router: the built app driven through tauri-driver
// and WebKitWebDriver (under Xvfb, as app.test.mjs), `review-router` and the fake LLM provider
// (the one fake: an LLM provider cannot exist here) as their own processes on loopback, and the
// device key in a real Secret Service (gnome-keyring on the run's own D-Bus session bus, which
// scripts/test.sh starts with dbus-run-session). Every process started here is stopped by PID.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Session, freePort, startDriver } from "./webdriver.mjs";
import { addAccount, enrolThroughUi, fill } from "./accounts.mjs";
import { Child, rowsOf, saveAs, startKeyring, until } from "./processes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures");
const app = process.env.REVIEW_STATION_BIN;
const routerBin = process.env.REVIEW_ROUTER_BIN;
const fakeBin = process.env.FAKE_LLM_BIN;
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(tmpdir(), "review-station-e2e");
const ADMIN_KEY = "admin-key-of-the-e2e-tests";
const SECRET_KEY = "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";
const RULE = "price tags are visible";
const REASON = "no price tag can be seen on the fruit display";
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

/** The router's config: one fake LLM behind both backends, the ledger beside the config. */
function routerConfig(port, fake) {
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
[[backends]]
name = "gemini"
provider = "gemini"
base_url = "http://${fake}/v1"
max_in_flight = 8
timeout_ms = 10000
[[backends]]
name = "bedrock"
provider = "openai"
base_url = "http://${fake}/v1"
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

const badge = (session) => session.script("return document.getElementById('connection')?.dataset.state ?? null;");

test("an auditor's visit made offline: the cloud check goes out when the router is back, a failed one is corrected in review, and the correction reaches the router", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-sync-"));
  const dataDir = path.join(work, "station");
  const card = path.join(work, "card");
  const routerDir = path.join(work, "router");
  for (const d of [dataDir, card, routerDir]) mkdirSync(d);
  const refs = path.join(fixtures, "grocery", "references");
  writeFileSync(path.join(dataDir, "stores.toml"), [
    `import_folder = '${card}'`,
    "[[store]]", "id = 'main-street'", "name = 'Main Street'",
    ...["Fruit", "Vegetables", "Packages"].flatMap((c) => ["[[store.category]]", `name = '${c}'`, `references = '${path.join(refs, c)}'`]),
    "[[store.shot]]", "name = 'Fruit display'", "category = 'Fruit'", `rules = ['${RULE}']`,
    "[[store.shot]]", "name = 'Dairy wall'", "category = 'Packages'",
  ].join("\n"));
  // The store's routing policy: no QA sample. At the default threshold the photo (category at
  // 67 %) is queued at import, offline; when the cloud's verdict comes back, that open task is
  // updated, so the reviewer sees the failed rule.
  mkdirSync(path.join(dataDir, "policies"));
  writeFileSync(path.join(dataDir, "policies", "main-street.toml"), "qa_sample = 0.0\n");
  // the LLM's answer to this rule is scripted: it fails, surely (the router narrows the answer's
  // schema to the rule ids it asked, `rule-1`…)
  const script = path.join(work, "fake-llm.json");
  writeFileSync(script, JSON.stringify({ latency: { fixed_ms: 20 }, answers: [{ when_contains: RULE,
    json: { rules: [{ id: "rule-1", passed: false, confidence: 0.9, reason: REASON }] } }] }));

  const children = [];
  const routerDb = path.join(routerDir, "router.db");
  const routerToml = path.join(routerDir, "router.toml");
  let session;
  const started = Date.now();
  const mark = (what) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  try {
    children.push(await startKeyring(path.join(work, "keyring-home")));
    const fake = new Child("fake-llm", fakeBin, ["--listen", "127.0.0.1:0", "--provider", "gemini", "--script", script]);
    children.push(fake);
    const fakeAddress = await fake.listening();
    // the router's port is chosen now, so it comes back where the station knows it
    const port = await freePort();
    writeFileSync(routerToml, routerConfig(port, fakeAddress));
    const routerUrl = `http://127.0.0.1:${port}`;
    let routerRuns = 0;
    const startRouter = async () => {
      routerRuns += 1;
      const router = new Child(`router-${routerRuns}`, routerBin, ["--config", routerToml],
        { env: { ...process.env, REVIEW_ROUTER_ADMIN_KEY: ADMIN_KEY, REVIEW_ROUTER_SECRET_KEY: SECRET_KEY, REVIEW_ROUTER_LOG: "warn" } });
      children.push(router);
      const address = await router.listening();
      assert.equal(address, `127.0.0.1:${port}`);
      return router;
    };
    let router = await startRouter();
    // the person at the station: an account on the router (auditor and reviewer: admin)
    addAccount(routerBin, routerToml, "ana", "admin");
    mark("keyring, fake LLM and router up");

    // An enrolment code, as the router's admin makes it.
    const made = await fetch(`${routerUrl}/admin/v1/enrolment-codes`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ note: "e2e sync test" }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const { code } = await made.json();
    assert.ok(code, "an enrolment code");

    session = await Session.start(driver.base, app, ["--data-dir", dataDir]);
    await session.waitFor("the first screen", () => session.script("return document.querySelector('#detail .empty') !== null"), 60_000);
    assert.equal(await badge(session), "local", "a station never connected works locally");

    // Connect through the Sync panel (S), typing as a user would.
    await session.press("s");
    await session.waitFor("the connect form", () => session.script("return document.getElementById('sync-connect') !== null && !document.getElementById('sync-panel').hidden;"));
    await fill(session, "#sync-url", routerUrl);
    await fill(session, "#sync-code", code);
    await fill(session, "#sync-station-name", "elm-road");
    await session.clickCss("#sync-connect-button");
    await session.waitFor("the station online", async () => {
      const error = await session.script("return document.getElementById('sync-connect-error')?.textContent ?? '';");
      if (error) throw new Error(`connect refused: ${error}`);
      return (await badge(session)) === "online" && await session.script(
        "return document.getElementById('sync-state')?.dataset.state === 'online';");
    }, 60_000);
    assert.equal(await session.script("return document.getElementById('sync-url-shown').textContent;"), routerUrl);
    assert.equal(await session.script("return document.getElementById('sync-station-shown').textContent;"), "elm-road");
    mark("connected through the Sync panel");
    // a connected station works under router accounts: the login screen comes up, and Ana
    // enrols her authenticator (the test reads the secret from the otpauth URL shown)
    await enrolThroughUi(session, "ana");
    await session.waitFor("signed in as ana, the login screen gone", () => session.script(
      "return document.getElementById('login')?.hidden === true && document.getElementById('session-name')?.textContent === 'ana';"), 30_000);
    mark("signed in as ana");
    await session.press("\uE00C"); // Esc closes the panel

    // The network goes: the router is killed. The station finds it gone at its next round (the
    // worker rests up to 30 s when it has nothing to send) and says so.
    await router.kill();
    const killedAt = Date.now();
    await session.waitFor("the badge offline", async () => (await badge(session)) === "offline", 90_000);
    mark(`router killed; the badge said offline ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`);

    // The visit, offline: a photo lands in the watched folder, judged here; its rule waits.
    await session.press("v");
    await session.waitFor("the start form", () => session.script("return document.getElementById('visit-start') !== null"));
    // the auditor is the signed-in account, not a typed name
    assert.match(await session.script("return document.getElementById('visit-auditor-account')?.textContent ?? '';"), /Auditor: ana/);
    await session.clickCss("#visit-start");
    await session.waitFor("the watched folder", () => session.script(
      "return document.querySelector('.visit-folder')?.dataset.folder === 'watching';"), 60_000);
    copyFileSync(path.join(fixtures, "grocery", "queries", "Fruit", "Passion-Fruit-Passion-Fruit_002.jpg"), path.join(card, "IMG_0001.jpg"));
    const photoRow = () => session.script(`
      const row = document.querySelector('[data-file="IMG_0001.jpg"]');
      return row ? { state: row.dataset.state, sub: row.querySelector('.row-sub').textContent } : null;`);
    const offlineRow = await session.waitFor("the photo's local verdict", async () => {
      const row = await photoRow();
      return row?.state === "accepted" ? row : null;
    }, 60_000);
    assert.match(offlineRow.sub, /1 check pending \(cloud\)/);
    assert.match(await session.script("return document.getElementById('visit-pending')?.textContent ?? '';"), /^1 rule check waiting for the network/);
    assert.equal(await badge(session), "offline");
    mark("photo accepted offline, its cloud check pending");

    // The Sync panel lists the check, kept until the router answers.
    await session.press("s");
    const job = await session.waitFor("the photo check in the outbox", () => session.script(`
      const row = [...document.querySelectorAll('#sync-jobs .sync-job')].find((r) => r.querySelector('.sync-kind')?.textContent === 'Photo check');
      return row ? { state: row.dataset.state, text: row.textContent, online: document.getElementById('sync-state').dataset.state } : null;`), 20_000);
    assert.ok(["queued", "retrying"].includes(job.state), JSON.stringify(job));
    assert.equal(job.online, "offline");
    assert.match(job.text, /Open item/);
    writeFileSync(path.join(artifacts, "sync-offline.png"), await session.screenshot());

    // The network comes back: the same router, on the same port, with the same ledger. The
    // station finds it by itself (its worker backs off up to a minute while the router is away).
    await session.press("v"); // back to the visit, which the auditor watches
    await session.waitFor("the visit panel", () => session.script("return !document.getElementById('visit-panel').hidden;"));
    router = await startRouter();
    const backAt = Date.now();
    await session.waitFor("the badge online again", async () => (await badge(session)) === "online", 120_000);
    mark(`router restarted; the badge said online ${((Date.now() - backAt) / 1000).toFixed(1)} s later (no Retry clicked)`);

    // The check completes: the visit shows the cloud's verdict in place of "pending".
    const judged = await session.waitFor("the cloud verdict in the visit", async () => {
      const row = await photoRow();
      const pending = await session.script("return document.getElementById('visit-pending') !== null;");
      return !pending && row && /cloud: /.test(row.sub) ? row : null;
    }, 90_000);
    mark(`the cloud verdict shown in the visit ${((Date.now() - backAt) / 1000).toFixed(1)} s after the router came back`);
    assert.ok(judged.sub.includes(`cloud: ${RULE} — failed (${REASON})`), judged.sub);
    assert.doesNotMatch(judged.sub, /pending/);
    writeFileSync(path.join(artifacts, "sync-visit-judged.png"), await session.screenshot());

    // ... and in its report (CSV), saved through the native save dialog.
    const report = path.join(work, "visit-report.csv");
    await session.clickCss("#visit-export-csv");
    await saveAs(session, "Save the visit report", report);
    await session.waitFor("the saved report", () => session.script(
      "return document.getElementById('visit-action-status').textContent.startsWith('Saved ');"), 30_000);
    const csv = readFileSync(report, "utf8");
    assert.ok(csv.includes(`${RULE}: failed`), csv);

    // The failed check is in the review queue: the reviewer corrects it, keyboard only.
    const itemId = await session.script(
      "return Number([...document.querySelectorAll('#list .item-row')].find((r) => r.querySelector('.row-title')?.textContent === 'IMG_0001.jpg')?.dataset.id ?? NaN);");
    assert.ok(itemId > 0, "the photo is in the items list");
    await session.press("w"); // no name asked: decisions go under the signed-in account
    const cardText = await session.waitFor("the photo's compliance task", () => session.script(
      "return document.querySelector('#review-task .review-card')?.textContent ?? null;"), 30_000);
    assert.ok(cardText.startsWith(`Compliance · item ${itemId} · main-street`), cardText);
    const ruleRow = `tr[data-rule="cloud:${RULE}"]`;
    assert.equal(await session.script(`return document.querySelector('${ruleRow} .rule-toggle')?.textContent ?? null;`), "failed");
    // Tab walks the doubtful rules: to the cloud's, which Space marks passed
    for (let i = 0; i < 10; i++) {
      await session.press("\uE004");
      if (await session.script(`return document.activeElement?.dataset.ruleToggle === 'cloud:${RULE}';`)) break;
    }
    assert.equal(await session.script("return document.activeElement?.dataset.ruleToggle ?? null;"), `cloud:${RULE}`);
    await session.press(" ");
    await session.waitFor("the rule corrected", () => session.script(
      `const row = document.querySelector('${ruleRow}'); return row?.classList.contains('edited') && row.querySelector('.rule-toggle').textContent === 'passed';`));
    await session.press("a");
    await session.waitFor("the decision saved", () => session.script(
      "return document.getElementById('review-status').dataset.state === 'saved' && document.querySelector('#review-task .review-card') === null;"), 30_000);
    writeFileSync(path.join(artifacts, "sync-reviewed.png"), await session.screenshot());
    const decidedAt = Date.now();

    // The correction is in the router's evaluation store, once.
    const [decision] = rowsOf(path.join(dataDir, "station.db"), "SELECT hash, action, reviewer FROM review_decisions ORDER BY id DESC LIMIT 1");
    assert.equal(decision.action, "correct");
    assert.equal(decision.reviewer, "ana", "recorded under the signed-in account");
    const stored = await until("the correction on the router", () => {
      const rows = rowsOf(routerDb, "SELECT decision_hash, kind, body FROM corrections");
      return rows.length > 0 ? rows : null;
    }, 60_000);
    mark(`the correction on the router ${((Date.now() - decidedAt) / 1000).toFixed(1)} s after it was saved`);
    assert.equal(stored.length, 1, JSON.stringify(stored));
    assert.equal(stored[0].decision_hash, decision.hash);
    assert.equal(stored[0].kind, "compliance");
    // and stays once: the station has nothing more to send
    await session.press("\uE00C");
    await session.press("s");
    await session.waitFor("an outbox with nothing left to send", () => session.script(`
      const count = (f) => Number(document.querySelector('.sync-filter[data-filter="' + f + '"] .sync-count')?.textContent.replace(/\\D/g, '') ?? NaN);
      return ['queued', 'uploading', 'waiting', 'retrying', 'parked'].every((f) => count(f) === 0) && count('done') >= 2;`), 30_000);
    assert.equal(rowsOf(routerDb, "SELECT count(*) AS n FROM corrections")[0].n, 1);
    mark("done");
  } catch (error) {
    if (session) writeFileSync(path.join(artifacts, "sync-failed.png"), await session.screenshot().catch(() => Buffer.alloc(0)));
    for (const child of children) child.saveLog();
    throw error;
  } finally {
    await session?.close();
    for (const child of children.reverse()) await child.kill("SIGTERM").catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
