// End-to-end test of the backup from the app's Engine panel and its restore from the command
// line: the real app under tauri-driver (Xvfb), the native folder dialog driven as a person would.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Session, startDriver } from "./webdriver.mjs";
import { xdotool } from "./processes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures");
const app = process.env.REVIEW_STATION_BIN;
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(tmpdir(), "review-station-e2e");

let driver;

before(async () => {
  assert.ok(app && existsSync(app), `REVIEW_STATION_BIN must point at the built app (got ${app})`);
  mkdirSync(artifacts, { recursive: true });
  driver = await startDriver();
});
after(() => driver?.stop());

test("a backup taken from the command line while the app works restores checked, never over a running app", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-backup-"));
  const dataDir = path.join(work, "station");
  const backup = path.join(work, "backup-1");
  const session = await Session.start(driver.base, app, ["--data-dir", dataDir, path.join(fixtures, "sharp.jpg"), path.join(fixtures, "blurred.jpg")]);
  try {
    await session.waitFor("two photos", () => session.script("return document.querySelectorAll('.item-row[data-id]').length === 2;"), 60_000);
    // the copy is a reader beside the running app
    const made = execFileSync(app, ["--backup", backup, "--data-dir", dataDir], { encoding: "utf8" });
    assert.match(made, /backed up .* 0 decisions, 2 photos \(\d+ bytes\), configuration: .*stores\.toml/, made);
    // a restore over the running app is refused, and changes nothing
    let refused = "";
    try {
      execFileSync(app, ["--restore", backup, "--data-dir", dataDir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      refused = String(error.stderr);
    }
    assert.match(refused, /nothing was restored: Review Station is running on .*; close it first/, refused);
    // the Engine panel offers the same backup into a folder the user picks
    await session.clickCss("#engine-button");
    await session.waitFor("the backup button", () => session.script("return document.getElementById('backup-button')?.textContent === 'Back up…';"));
    await session.clickCss("#backup-button");
    await session.waitFor("the folder dialog", () => {
      try {
        return xdotool(["search", "--onlyvisible", "--name", "^Back up into a folder$"]) !== "";
      } catch {
        return null;
      }
    }, 30_000);
    assert.equal(await session.script("return document.getElementById('backup-cancel')?.textContent ?? null;"), "Cancel");
    writeFileSync(path.join(artifacts, "backup-dialog.png"), await session.screenshot());
  } catch (error) {
    writeFileSync(path.join(artifacts, "backup-failed.png"), await session.screenshot().catch(() => Buffer.alloc(0)));
    throw error;
  } finally {
    await session.close();
  }
  const manifest = JSON.parse(readFileSync(path.join(backup, "backup.json"), "utf8"));
  assert.equal(manifest.blobs, 2);
  // closed: the restore checks the backup, moves the old directory aside and puts it in place
  const said = execFileSync(app, ["--restore", backup, "--data-dir", dataDir], { encoding: "utf8" });
  assert.match(said, /^restored .*: 0 decisions, 2 photos checked; the previous data directory is kept at /, said);
  assert.ok(readdirSync(work).some((n) => n.startsWith("station.before-restore-")));
  const verified = execFileSync(app, ["--verify-audit", "--data-dir", dataDir], { encoding: "utf8" });
  assert.match(verified, /^audit trail intact: 0 decisions/);
  rmSync(work, { recursive: true, force: true });
});

test("a damaged database shows one window that says what to do, changes nothing and ends", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-damaged-"));
  const dataDir = path.join(work, "station");
  mkdirSync(dataDir);
  const garbage = Buffer.alloc(64 * 1024, 0x5a);
  writeFileSync(path.join(dataDir, "station.db"), garbage);
  const child = spawn(app, ["--data-dir", dataDir], { stdio: "ignore" });
  try {
    const title = "Review Station cannot open its data";
    const shown = await waitUntil(() => {
      try {
        return xdotool(["search", "--onlyvisible", "--name", "."]).split("\n").map((id) => xdotool(["getwindowname", id]));
      } catch {
        return null;
      }
    }, (names) => names.includes(title), 30_000);
    assert.deepEqual(shown, [title], "the error window alone: no main window of failing commands");
    assert.equal(child.exitCode, null, "it waits for the person to read it");
  } finally {
    child.kill("SIGTERM");
  }
  assert.deepEqual(readFileSync(path.join(dataDir, "station.db")), garbage, "the damaged file is left as it is");
  assert.deepEqual(readdirSync(dataDir).filter((n) => n !== "logs").sort(), ["station.db"]);
  rmSync(work, { recursive: true, force: true });
});

async function waitUntil(probe, done, ms) {
  const until = Date.now() + ms;
  let last = null;
  while (Date.now() < until) {
    last = probe();
    if (last !== null && done(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out; last: ${JSON.stringify(last)}`);
}
