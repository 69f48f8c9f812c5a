// End-to-end test of a full disk: the real app with its data on a small tmpfs of its own
// (small_disk.sh), the disk filled from outside while it runs. The photo that could not be
// saved is listed as failed, a notice names the disk (mount point, device, free space) and
// says what was not saved; when the space is freed the notice says work can go on, and the
// same photo imports — without a restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Session, startDriver } from "./webdriver.mjs";

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

/** The PID of the app running on `dataDir` (the one WebKit's driver started). */
function appPid(dataDir) {
  const found = execFileSync("pgrep", ["-f", "--", `--data-dir ${dataDir}`], { encoding: "utf8" })
    .trim().split("\n").map(Number).filter((pid) => {
      const exe = (() => { try { return readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch { return ""; } })();
      return exe.startsWith(app);
    });
  assert.equal(found.length, 1, `one app on ${dataDir}: ${found}`);
  return found[0];
}

/** Writes into `file` until the filesystem says no space is left. */
function fill(file) {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal(error.code, "ENOSPC", String(error));
  }
  try {
    for (;;) writeSync(fd, Buffer.alloc(512));
  } catch { /* the last blocks */ }
  closeSync(fd);
}

/** A photo of its own: the fixture with bytes after its JPEG end (decodes the same). */
function photo(dir, name, salt) {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([readFileSync(path.join(fixtures, "sharp.jpg")), Buffer.from(`salt ${salt}`)]));
  return file;
}

const rowNames = (session) => session.script(
  "return [...document.querySelectorAll('#list .item-row:not(.placeholder)')].map((r) => r.querySelector('.row-title').textContent);",
);

test("a full disk is named in a notice, the photo not saved is listed, and work goes on when space returns", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-disk-"));
  const disk = path.join(work, "disk");
  mkdirSync(disk);
  const dataDir = path.join(disk, "data");
  const photos = path.join(work, "photos"); // the user's photos, on another disk
  mkdirSync(photos);
  const first = photo(photos, "first.jpg", 1);
  const late = photo(photos, "while-full.jpg", 2);
  const session = await Session.start(driver.base, path.join(here, "small_disk.sh"), [disk, "24m", app, "--data-dir", dataDir, first]);
  try {
    await session.waitFor("the first photo", async () => ((await rowNames(session)).length === 1 ? true : null), 60_000);
    const pid = appPid(dataDir);
    const filler = `/proc/${pid}/root${disk}/filler`;
    fill(filler);
    // "Open with" the next photo: handed to the running window, which cannot save it
    execFileSync(app, ["--data-dir", dataDir, late], { timeout: 30_000, stdio: "ignore" });
    const notice = await session.waitFor("the disk notice", () => session.script(
      "const n = document.getElementById('disk-notice'); return n && !n.classList.contains('recovered') && n.textContent.includes('free of') ? n.textContent : null;",
    ), 30_000);
    console.log(`notice: ${notice}`);
    assert.match(notice, /^The disk is full/);
    assert.ok(notice.includes(`tmpfs at ${disk}`), notice);
    assert.ok(notice.includes(dataDir), notice);
    assert.match(notice, /was not saved/);
    const failed = await session.script(
      "return [...document.querySelectorAll('#batch-list .batch-row')].map((r) => `${r.dataset.status}: ${r.textContent}`);",
    );
    console.log(`import rows: ${failed.join(" | ")}`);
    assert.ok(failed.some((row) => row.startsWith("failed: while-full.jpg") && row.includes("full")), failed.join(" | "));
    writeFileSync(path.join(artifacts, "disk-full.png"), await session.screenshot());
    assert.equal((await rowNames(session)).length, 1, "nothing half-saved is listed");
    // space returns: the notice says so by itself, and the same photo imports, no restart
    unlinkSync(filler);
    const recovered = await session.waitFor("the notice to see the space", () => session.script(
      "const n = document.getElementById('disk-notice'); return n?.classList.contains('recovered') ? n.textContent : null;",
    ), 30_000);
    assert.match(recovered, /takes writes again/);
    execFileSync(app, ["--data-dir", dataDir, late], { timeout: 30_000, stdio: "ignore" });
    const names = await session.waitFor("the second photo", async () => {
      const r = await rowNames(session);
      return r.length === 2 ? r : null;
    }, 60_000);
    assert.deepEqual([...names].sort(), ["first.jpg", "while-full.jpg"]);
  } catch (error) {
    writeFileSync(path.join(artifacts, "disk-failed.png"), await session.screenshot().catch(() => Buffer.alloc(0)));
    throw error;
  } finally {
    await session.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test("a stored photo deleted while the app was closed is named at the next start, with what to do", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-blob-"));
  const dataDir = path.join(work, "data");
  const photos = path.join(work, "photos");
  mkdirSync(photos);
  const original = photo(photos, "shelf.jpg", 3);
  let session = await Session.start(driver.base, app, ["--data-dir", dataDir, original]);
  try {
    await session.waitFor("the photo", async () => ((await rowNames(session)).length === 1 ? true : null), 60_000);
  } finally {
    await session.close();
  }
  const blobs = path.join(dataDir, "blobs");
  const stored = execFileSync("find", [blobs, "-type", "f", "-regextype", "posix-extended", "-regex", ".*/[0-9a-f]{64}"], { encoding: "utf8" }).trim().split("\n");
  assert.equal(stored.length, 1, stored.join(", "));
  unlinkSync(stored[0]);
  session = await Session.start(driver.base, app, ["--data-dir", dataDir]);
  try {
    const banner = await session.waitFor("the banner", () => session.script(
      "const b = document.getElementById('banner'); return b && !b.hidden && b.textContent.includes('stored files') ? b.textContent : null;",
    ), 30_000);
    console.log(`banner: ${banner}`);
    assert.match(banner, /^1 of 1 stored files are missing or damaged \(shelf\.jpg: its file is missing\)\. Restore a backup \(review-station --restore/);
    assert.match(banner, /import the original files again/);
    writeFileSync(path.join(artifacts, "blob-missing.png"), await session.screenshot());
    // the list still opens: the rest of the data is there
    assert.deepEqual(await rowNames(session), ["shelf.jpg"]);
  } finally {
    await session.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test("data on a disk that turned read-only opens in read-only mode: everything shown, nothing saved, the disk named", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-ro-"));
  const made = path.join(work, "made");
  const photos = path.join(work, "photos");
  mkdirSync(photos);
  let session = await Session.start(driver.base, app, ["--data-dir", path.join(made, "data"), photo(photos, "kept.jpg", 4)]);
  try {
    await session.waitFor("the photo", async () => ((await rowNames(session)).length === 1 ? true : null), 60_000);
  } finally {
    await session.close();
  }
  const disk = path.join(work, "disk");
  mkdirSync(disk);
  const dataDir = path.join(disk, "data");
  const late = photo(photos, "refused.jpg", 5);
  session = await Session.start(driver.base, path.join(here, "small_disk.sh"),
    [disk, "64m", "--read-only-copy-of", made, app, "--data-dir", dataDir, late]);
  try {
    const notice = await session.waitFor("the read-only notice", () => session.script(
      "const n = document.getElementById('disk-notice'); return n && n.textContent.includes('read-only') ? n.textContent : null;",
    ), 30_000);
    console.log(`notice: ${notice}`);
    assert.match(notice, /^The station's data cannot be written/);
    assert.ok(notice.includes(`tmpfs at ${disk}`) && notice.includes(dataDir), notice);
    assert.deepEqual(await rowNames(session), ["kept.jpg"], "what is stored is shown");
    const refused = await session.waitFor("the refused import", () => session.script(
      "return [...document.querySelectorAll('#batch-list .batch-row')].map((r) => `${r.dataset.status}: ${r.textContent}`).find((t) => t.includes('refused.jpg')) ?? null;",
    ), 30_000);
    assert.match(refused, /^failed: refused\.jpg.*cannot be written/);
    writeFileSync(path.join(artifacts, "read-only-data.png"), await session.screenshot());
  } finally {
    await session.close();
  }
  // the copy it was made from is whole
  const verified = execFileSync(app, ["--verify-audit", "--data-dir", path.join(made, "data")], { encoding: "utf8" });
  assert.match(verified, /^audit trail intact/);
  rmSync(work, { recursive: true, force: true });
});
