// The installed package, driven like a user would: the app from the .deb (or the AppImage)
// under tauri-driver, on a machine where the build tree and the fetched models are hidden
// (tests/package/install_test.sh runs this inside that throwaway root). A photo and a PDF from
// the command line get their verdicts, OCR reads a receipt with the package's own ONNX Runtime
// and models, and About names the package's version. REVIEW_STATION_BIN: the installed binary.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Session, startDriver } from "../e2e/webdriver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures");
const app = process.env.REVIEW_STATION_BIN;
const expectedModels = process.env.EXPECTED_MODELS_DIR;
let driver;

before(async () => {
  assert.ok(app && existsSync(app), `REVIEW_STATION_BIN must point at the installed app (got ${app})`);
  driver = await startDriver();
});

after(() => driver?.stop());

const rows = (session) => session.script(`
  return [...document.querySelectorAll('#list .item-row:not(.placeholder)')].map((r) => ({
    id: Number(r.dataset.id), state: r.dataset.state, name: r.querySelector('.row-title').textContent,
    sub: r.querySelector('.row-sub').textContent }));`);

const openItem = (session, id) => session.waitFor(`the detail of item ${id}`, async () => {
  const shown = () => session.script(
    "const el = document.querySelector('#detail .detail'); return !!el && el.dataset.itemId === arguments[0];", String(id));
  if (await shown()) return true;
  await session.clickCss(`.item-row[data-id="${id}"]`);
  await new Promise((r) => setTimeout(r, 500));
  return shown();
});

test("the installed app imports a photo and a PDF, reads a receipt and names its version", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "rs-installed-"));
  const files = [path.join(fixtures, "sharp.jpg"), path.join(fixtures, "blurred.jpg"), path.join(fixtures, "sroie", "000.jpg"),
    path.join(fixtures, "pdf", "text-invoice.pdf")];
  const session = await Session.start(driver.base, app, ["--data-dir", dataDir, ...files]);
  try {
    const listed = await session.waitFor("four items", async () => {
      const r = await rows(session);
      return r.length === files.length ? Object.fromEntries(r.map((row) => [row.name, row])) : null;
    }, 60_000);
    assert.equal(listed["sharp.jpg"].state, "pass", JSON.stringify(listed));
    assert.equal(listed["blurred.jpg"].state, "fail", JSON.stringify(listed));
    assert.equal(listed["text-invoice.pdf"].state, "document", JSON.stringify(listed));

    // the PDF's text through the package's PDFium
    await openItem(session, listed["text-invoice.pdf"].id);
    const pdf = await session.waitFor("the PDF's text layer", () => session.script(`
      const status = document.querySelector('.text-status');
      return status?.dataset.source === 'text_layer' ? document.querySelectorAll('.text-lines li').length : null;`), 60_000);
    assert.ok(pdf > 0);

    // OCR through the package's ONNX Runtime and models
    await openItem(session, listed["000.jpg"].id);
    await session.press("t");
    const lines = await session.waitFor("the OCR result", () => session.script(`
      const n = document.querySelectorAll('.ocr-overlay polygon').length;
      return n > 0 ? [...document.querySelectorAll('.text-lines li')].map((l) => l.textContent) : null;`), 90_000);
    assert.ok(lines.some((l) => /TOTAL/i.test(l)), JSON.stringify(lines));

    // the engine runs on the package's models, every one verified
    await session.clickCss("#engine-button");
    const engine = await session.waitFor("the engine status", () => session.script(`
      const s = document.querySelector('#engine-summary');
      return s ? { summary: s.textContent, dir: [...document.querySelectorAll('#engine-body p')].map((p) => p.textContent).find((t) => t.includes('models in')) ?? '',
        bad: document.querySelectorAll('#engine-body .model-bad').length } : null;`));
    assert.match(engine.summary, /^Available on /, JSON.stringify(engine));
    if (expectedModels) assert.ok(engine.dir.includes(expectedModels), JSON.stringify(engine));
    await session.clickCss("#engine-close");

    const version = JSON.parse(readFileSync(path.join(here, "..", "..", "package.json"), "utf8")).version;
    await session.clickCss("#about-button");
    const about = await session.waitFor("About", () => session.script(
      "return document.querySelector('#about-version')?.textContent ?? null;"));
    assert.equal(about, `Review Station ${version}`);
  } finally {
    await session.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
