// End-to-end: the hostile-file corpus (tools/hostile_corpus: bombs, lying headers, polyglots,
// hostile EXIF and PDFs, odd names, symlinks, a FIFO) imported as one folder into the real app.
// Each file gets the answer its manifest derives from the code, the window keeps answering
// while it works, and the app's peak memory is reported and bounded.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Session, startDriver } from "./webdriver.mjs";
import { rowsOf } from "./processes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const app = process.env.REVIEW_STATION_BIN;
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(tmpdir(), "review-station-e2e");
/** Peak resident memory allowed: the largest legal photo (120 Mpx) decodes in well under it. */
const PEAK_RSS_LIMIT_MB = 1536;
let driver;

before(async () => {
  assert.ok(app && existsSync(app), `REVIEW_STATION_BIN must point at the built app (got ${app})`);
  mkdirSync(artifacts, { recursive: true });
  driver = await startDriver();
});
after(() => driver?.stop());

/** The app process serving `dataDir` (tauri-driver starts it), by its command line. */
function appPid(dataDir) {
  const out = execFileSync("pgrep", ["-f", "--", `--data-dir ${dataDir}`], { encoding: "utf8" }).trim().split("\n");
  return Number(out[0]);
}

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

test("every hostile file gets its own answer, the window keeps answering and memory stays bounded", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "rs-e2e-hostile-"));
  const corpus = path.join(work, "corpus");
  execFileSync("python3", [path.join(root, "tools/hostile_corpus/make_hostile_corpus.py"), corpus], { stdio: "ignore" });
  const manifest = JSON.parse(readFileSync(path.join(corpus, "manifest.json"), "utf8"));
  const files = path.join(corpus, "files");
  const dataDir = path.join(work, "station");
  const db = path.join(dataDir, "station.db");
  const started = Date.now();
  const session = await Session.start(driver.base, app, ["--data-dir", dataDir, files]);
  let slowest = 0;
  try {
    const pid = appPid(dataDir);
    // while it imports, the window answers: every probe is a round trip through the webview
    const total = manifest.folder_import.total;
    await session.waitFor(`${total} files answered`, async () => {
      const asked = Date.now();
      await session.script("return document.querySelectorAll('.item-row').length;");
      slowest = Math.max(slowest, Date.now() - asked);
      if (!existsSync(db)) return null;
      const [{ n }] = rowsOf(db, "SELECT count(*) AS n FROM items");
      return n >= total ? n : null;
    }, 300_000);
    const took = (Date.now() - started) / 1000;
    const rows = rowsOf(db, "SELECT hex(CAST(file_name AS BLOB)) AS name, status, verdict, error_code AS code, error_message AS message, kind FROM items");
    const byName = new Map(rows.map((r) => [r.name.toLowerCase(), r]));
    const wrong = [];
    for (const entry of manifest.entries) {
      // the station keeps a name as lossy UTF-8 (a byte that is not UTF-8 becomes U+FFFD), as
      // the manifest's `name` is
      const row = byName.get(Buffer.from(entry.name, "utf8").toString("hex"));
      if (entry.expect === "skipped") {
        if (row) wrong.push(`${entry.path}: skipped by a folder import, but recorded as ${row.status}`);
      } else if (!row) {
        wrong.push(`${entry.path}: no answer (expected ${entry.expect})`);
      } else if (entry.expect === "refused") {
        const matches = new RegExp(entry.error, "u").test(row.message ?? "");
        if (row.status !== "error" || row.code !== entry.code || !matches) {
          wrong.push(`${entry.path}: expected ${entry.code} "${entry.message}", got ${row.status} ${row.code} "${row.message}"`);
        }
      } else if (entry.expect === "imported" && row.status !== "analyzed") {
        wrong.push(`${entry.path}: expected imported, got ${row.status} ${row.code} "${row.message}"`);
      }
    }
    const peak = peakRssMb(pid);
    console.log(`hostile corpus: ${manifest.entries.length} entries, ${rows.length} answered in ${took.toFixed(1)} s; ` +
      `slowest window round trip ${slowest} ms; app peak RSS ${peak.toFixed(0)} MB`);
    assert.deepEqual(wrong, [], wrong.join("\n"));
    assert.equal(rows.filter((r) => r.status === "error").length, manifest.folder_import.failed);
    assert.equal(rows.filter((r) => r.status === "analyzed").length, manifest.folder_import.imported);
    assert.ok(slowest < 10_000, `the window stopped answering for ${slowest} ms`);
    assert.ok(peak < PEAK_RSS_LIMIT_MB, `peak RSS ${peak.toFixed(0)} MB over ${PEAK_RSS_LIMIT_MB} MB`);
    // and it still works: the list answers the keyboard
    await session.press("j");
    await session.waitFor("a row selected", () => session.script("return document.querySelector('.item-row.selected') !== null;"), 10_000);
    writeFileSync(path.join(artifacts, "hostile-done.png"), await session.screenshot());
  } catch (error) {
    writeFileSync(path.join(artifacts, "hostile-failed.png"), await session.screenshot().catch(() => Buffer.alloc(0)));
    throw error;
  } finally {
    await session.close();
    rmSync(work, { recursive: true, force: true });
  }
});
