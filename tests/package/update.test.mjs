// The station updating itself, end to end: the 0.1.0 AppImage (built with the test key as its
// trusted key) connected to the real router, which offers a real newer build (the same code
// packaged as a later version, signed by `tauri build`) from its updates folder on loopback.
// First the router offers it with a signature of another file, then one made with a key the app
// does not trust: each refused with its reason and the installed AppImage left byte for byte.
// Then the right signature: a download cancelled halfway, then downloaded with progress, verified, put in place of the AppImage;
// the replaced file started again says 0.1.1 in About and finds nothing newer.
// tests/package/update_test.sh builds the packages and runs this (under dbus-run-session, Xvfb).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Session, freePort, startDriver } from "../e2e/webdriver.mjs";
import { addAccount, enrolThroughUi, fill } from "../e2e/accounts.mjs";
import { Child, startKeyring } from "../e2e/processes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const { OLD_APPIMAGE, OLD_SIG, NEW_APPIMAGE, NEW_SIG, REVIEW_ROUTER_BIN: routerBin } = process.env;
const NEW_VERSION = process.env.NEW_VERSION ?? "0.1.1";
const OLD_VERSION = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version;
const PACKAGE = `Review Station_${NEW_VERSION}_amd64.AppImage`;
const NOTES = "Faster OCR on A4 pages.\n<b>Not markup</b>: notes are shown as text.";
const ADMIN_KEY = "admin-key-of-the-update-test";
const SECRET_KEY = "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";

const work = mkdtempSync(path.join(tmpdir(), "rs-update-"));
// where the user keeps the AppImage: the file the updater replaces (its runtime says it in APPIMAGE)
const installed = path.join(work, "apps", "Review Station.AppImage");
const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
let driver;

/** An AppImage extracted (no FUSE here): its AppRun, which tauri-driver starts. */
function extract(appimage, into) {
  mkdirSync(into, { recursive: true });
  execFileSync(appimage, ["--appimage-extract"], { cwd: into, stdio: "ignore" });
  return path.join(into, "squashfs-root", "AppRun");
}

before(async () => {
  for (const [name, file] of Object.entries({ OLD_APPIMAGE, OLD_SIG, NEW_APPIMAGE, NEW_SIG, REVIEW_ROUTER_BIN: routerBin })) {
    assert.ok(file && existsSync(file), `${name} must name a file (got ${file}); tests/package/update_test.sh sets it`);
  }
  mkdirSync(path.dirname(installed));
  copyFileSync(OLD_APPIMAGE, installed);
  // the app runs extracted, as the AppImage runtime would run it, with APPIMAGE naming the file
  process.env.APPIMAGE = installed;
  driver = await startDriver();
});

// two extracted AppImages and three packages: 1.7 GB, not left behind
after(() => {
  driver?.stop();
  rmSync(work, { recursive: true, force: true });
});

function routerToml(port, updates) {
  return `listen = "127.0.0.1:${port}"
database = "router.db"
[routing]
primary = "a"
secondary = "b"
spill_rpm = 100000
spill_rps10 = 100000
spill_share = 0.5
[[backends]]
name = "a"
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
max_in_flight = 1
[[backends]]
name = "b"
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
max_in_flight = 1
[[models]]
name = "reasoning"
[models.serve.a]
model = "m"
prices = [{ from = "2026-01-01", input = 0.1, output = 0.1 }]
[models.serve.b]
model = "m"
prices = [{ from = "2026-01-01", input = 0.1, output = 0.1 }]
[updates]
dir = "${updates}"
`;
}

/** Publishes the release with `signature` (the .sig file's text, base64 as Tauri writes it). */
function publish(updates, signature) {
  const manifest = {
    version: NEW_VERSION, notes: NOTES, pub_date: "2026-12-03T09:00:00Z",
    platforms: { "linux-x86_64-appimage": { url: PACKAGE, signature: signature.trim() } },
  };
  // renamed into place: the router never reads half a manifest
  writeFileSync(path.join(updates, "latest.json.part"), JSON.stringify(manifest));
  renameSync(path.join(updates, "latest.json.part"), path.join(updates, "latest.json"));
}

const state = (session) => session.script(`
  const b = document.getElementById('update-button');
  const e = document.getElementById('update-error');
  return { button: b?.textContent ?? null, state: b?.dataset.state ?? null, error: e?.textContent ?? null, step: e?.dataset.step ?? null,
    status: document.getElementById('update-status')?.textContent ?? null };`);

/** Installs what is offered through the dialog; answers how it ended and the progress seen. */
async function install(session) {
  await session.clickCss("#update-install");
  const progress = [];
  const end = await session.waitFor("the update to end", async () => {
    const s = await state(session);
    const shown = await session.script("return document.querySelector('#update-progress span')?.textContent ?? null;");
    if (shown) progress.push(shown.trim());
    return s.state === "failed" || s.state === "installed" ? s : null;
  }, 180_000);
  return { end, progress };
}

test("a newer signed build on loopback is installed; a bad signature and an unknown key are refused", async () => {
  const updates = path.join(work, "updates");
  const routerDir = path.join(work, "router");
  const dataDir = path.join(work, "station");
  for (const d of [updates, routerDir, dataDir]) mkdirSync(d);
  copyFileSync(NEW_APPIMAGE, path.join(updates, PACKAGE));
  const children = [];
  let session;
  const started = Date.now();
  const mark = (what) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  try {
    children.push(await startKeyring(path.join(work, "keyring-home")));
    const port = await freePort();
    const toml = path.join(routerDir, "router.toml");
    writeFileSync(toml, routerToml(port, updates));
    const router = new Child("router", routerBin, ["--config", toml],
      { env: { ...process.env, REVIEW_ROUTER_ADMIN_KEY: ADMIN_KEY, REVIEW_ROUTER_SECRET_KEY: SECRET_KEY, REVIEW_ROUTER_LOG: "warn" } });
    children.push(router);
    await router.listening();
    const routerUrl = `http://127.0.0.1:${port}`;
    addAccount(routerBin, toml, "ana", "admin");

    // 1. the offer carries the signature of another package (0.1.0's, by the trusted key)
    publish(updates, readFileSync(OLD_SIG, "utf8"));
    const before = sha256(installed);
    const made = await fetch(`${routerUrl}/admin/v1/enrolment-codes`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ note: "update test" }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const { code } = await made.json();

    const oldApp = extract(installed, path.join(work, "old"));
    session = await Session.start(driver.base, oldApp, ["--data-dir", dataDir]);
    await session.waitFor("the first screen", () => session.script("return document.querySelector('#detail .empty') !== null"), 60_000);
    assert.equal(await state(session).then((s) => s.button), null, "a station on its own is offered nothing");
    await session.press("s");
    await session.waitFor("the connect form", () => session.script("return document.getElementById('sync-connect') !== null;"));
    await fill(session, "#sync-url", routerUrl);
    await fill(session, "#sync-code", code);
    await fill(session, "#sync-station-name", "update-test");
    await session.clickCss("#sync-connect-button");
    await enrolThroughUi(session, "ana");
    await session.waitFor("signed in", () => session.script("return document.getElementById('login')?.hidden === true;"), 30_000);
    await session.press("\uE00C");
    mark("connected and signed in");

    // the check on connecting found the release
    await session.waitFor("the update offered", async () => (await state(session)).button === `Update ${NEW_VERSION}`, 30_000);
    await session.clickCss("#update-button");
    const offer = await session.script("return [document.getElementById('update-offer')?.textContent, document.getElementById('update-notes')?.textContent, document.querySelectorAll('#update-notes b').length];");
    assert.match(offer[0], new RegExp(`Review Station ${NEW_VERSION} is available \\(this is ${OLD_VERSION}\\)`));
    assert.equal(offer[1], NOTES);
    assert.equal(offer[2], 0, "release notes are text, never markup");

    let { end, progress } = await install(session);
    assert.equal(end.state, "failed", JSON.stringify(end));
    assert.equal(end.step, "verify", JSON.stringify(end));
    assert.match(end.error, /does not match its signature.*nothing was installed/, end.error);
    assert.ok(progress.length > 0, "the download showed its progress");
    assert.equal(sha256(installed), before, "the installed AppImage is untouched");
    mark(`a signature of another file refused: ${end.error}`);

    // 2. the new package signed with a key the app does not trust
    const other = path.join(work, "other-key");
    mkdirSync(other);
    const signer = (...args) => execFileSync("npx", ["tauri", "signer", ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    signer("generate", "--ci", "-p", "other", "-w", path.join(other, "key"));
    const foreign = path.join(other, PACKAGE);
    copyFileSync(NEW_APPIMAGE, foreign);
    signer("sign", "-k", readFileSync(path.join(other, "key"), "utf8"), "-p", "other", foreign);
    publish(updates, readFileSync(`${foreign}.sig`, "utf8"));
    // a refused package is not offered to be tried again as it was: the user asks again
    assert.equal(await session.script("return document.getElementById('update-install');"), null);
    await session.clickCss("#update-check");
    await session.waitFor("the offer asked again", async () => (await state(session)).state === "available", 30_000);
    ({ end } = await install(session));
    assert.equal(end.step, "verify", JSON.stringify(end));
    assert.match(end.error, /signed with a key this app does not trust.*nothing was installed/, end.error);
    assert.equal(sha256(installed), before, "the installed AppImage is untouched");
    mark(`an unknown key refused: ${end.error}`);

    // 3. the release as built: the offer is asked again, then installed
    publish(updates, readFileSync(NEW_SIG, "utf8"));
    await session.clickCss("#update-check");
    await session.waitFor("the offer asked again", async () => (await state(session)).state === "available", 30_000);
    // a download cancelled halfway installs nothing and leaves the offer
    await session.clickCss("#update-install");
    await session.waitFor("the download running", async () => (await state(session)).state === "downloading", 30_000);
    await session.clickCss("#update-cancel");
    const cancelled = await session.waitFor("the cancel", async () => {
      const s = await state(session);
      return s.state === "downloading" ? null : s;
    }, 30_000);
    assert.equal(cancelled.state, "available", JSON.stringify(cancelled));
    assert.equal(sha256(installed), before, "the installed AppImage is untouched");
    mark("a download cancelled halfway");
    ({ end, progress } = await install(session));
    assert.equal(end.state, "installed", JSON.stringify(end));
    assert.equal(end.button, "Restart to update");
    assert.equal(end.status, `Review Station ${NEW_VERSION} is installed; it runs from the next start.`);
    assert.equal(sha256(installed), sha256(NEW_APPIMAGE), "the AppImage is the new build");
    mark(`installed (${progress.at(-1) ?? "no progress seen"})`);
    await session.close();
    session = null;

    // the replaced AppImage started: it is the new version, and nothing newer is offered
    const newApp = extract(installed, path.join(work, "new"));
    session = await Session.start(driver.base, newApp, ["--data-dir", dataDir]);
    await session.waitFor("the first screen", () => session.script("return document.querySelector('#detail .empty') !== null"), 60_000);
    await session.script("document.getElementById('about-button').click();");
    const version = await session.waitFor("About", () => session.script("return document.getElementById('about-version')?.textContent ?? null;"), 30_000);
    assert.equal(version, `Review Station ${NEW_VERSION}`);
    await session.clickCss("#about-check-updates");
    const now = await session.waitFor("the check's answer", async () => {
      const s = await state(session);
      return s.status?.startsWith("This is the newest release") ? s : null;
    }, 30_000);
    assert.equal(now.button, null, JSON.stringify(now));
    mark(`the new build runs: ${version}; ${now.status}`);
  } finally {
    await session?.close().catch((error) => console.log(`the session did not close: ${error.message}`));
    for (const child of children.reverse()) await child.kill();
  }
});
