import { api, errorMessage, events } from "./api";
import { installKeys, keys } from "./keys";
import type { ImportProgress } from "./bindings/ImportProgress";
import type { ImportSummary } from "./bindings/ImportSummary";
import type { ItemRow } from "./bindings/ItemRow";
import type { ItemSort } from "./bindings/ItemSort";
import type { VerdictFilter } from "./bindings/VerdictFilter";
import type { StoresInfo } from "./bindings/StoresInfo";
import { emptyDetail, renderDetail, type DetailView } from "./detail";
import { byId, h } from "./dom";
import { CATEGORY_LABELS, STATE_LABELS, itemState, rowSubtitle } from "./format";
import { setupEnginePanel } from "./engine-panel";
import { setupVisitPanel } from "./visit-panel";
import { setupReview } from "./review";
import { setupTheme } from "./theme";
import { PagedList, scrollToReveal, visibleRange } from "./virtual-list";
import "./styles.css";

const ROW_HEIGHT = 52;
const BATCH_ROWS_SHOWN = 300;

const listEl = byId("list");
const spacer = byId("list-spacer");
const detailEl = byId("detail");
const countEl = byId("count");
const banner = byId("banner");
const filterSelect = byId<HTMLSelectElement>("filter-verdict");
const sortSelect = byId<HTMLSelectElement>("sort");

let selectedIndex = -1;
let selectedId: number | null = null;
let detailRequest = 0;
let currentView: DetailView | null = null;
let stores: StoresInfo | null = null;
let reviewOpener: (() => void) | null = null;

function showView(view: DetailView | null, fallback?: HTMLElement): void {
  currentView?.dispose();
  currentView = view;
  detailEl.replaceChildren(view?.element ?? fallback ?? emptyDetail());
}

function showBanner(message: string | null): void {
  banner.hidden = message === null;
  banner.textContent = message ?? "";
}

const items = new PagedList<ItemRow>(
  (offset, limit) => api.listItems({
    verdict: filterSelect.value as VerdictFilter,
    sort: sortSelect.value as ItemSort,
    offset,
    limit,
  }),
  () => renderList(),
  200,
  (error) => showBanner(`Could not load the list: ${errorMessage(error)}`),
);

function renderRow(index: number, item: ItemRow | undefined): HTMLElement {
  if (!item) {
    return h("div", { class: "item-row placeholder", style: undefined }, h("span", { class: "muted" }, "…"));
  }
  const state = itemState(item);
  const subtitle = rowSubtitle(item);
  const category = item.category_verdict;
  const row = h("div", {
    class: `item-row${index === selectedIndex ? " selected" : ""}`,
    role: "option",
    "aria-selected": index === selectedIndex ? "true" : "false",
    "data-id": item.id,
    "data-index": index,
    "data-state": state,
  },
  h("span", { class: `verdict verdict-${state}` }, STATE_LABELS[state]),
  h("span", { class: "row-text" },
    h("span", { class: "row-title" }, item.file_name),
    h("span", { class: `row-sub${state === "error" ? " item-error-text" : ""}` }, subtitle)),
  category && category !== "predicted" && category !== "match"
    ? h("span", { class: `chip category-${category}`, title: CATEGORY_LABELS[category] ?? category }, CATEGORY_LABELS[category] ?? category)
    : null);
  return row;
}

function renderList(): void {
  spacer.style.height = `${items.total * ROW_HEIGHT}px`;
  countEl.textContent = `${items.total} item${items.total === 1 ? "" : "s"}`;
  const range = visibleRange(listEl.scrollTop, listEl.clientHeight, ROW_HEIGHT, items.total);
  const rows: HTMLElement[] = [];
  for (let i = range.start; i < range.end; i++) {
    const row = renderRow(i, items.get(i));
    row.style.top = `${i * ROW_HEIGHT}px`;
    rows.push(row);
  }
  spacer.replaceChildren(...rows);
  if (items.total === 0 && selectedId === null && currentView === null) detailEl.replaceChildren(emptyDetail());
}

async function select(index: number): Promise<void> {
  if (index < 0 || index >= items.total) return;
  selectedIndex = index;
  listEl.scrollTop = scrollToReveal(index, listEl.scrollTop, listEl.clientHeight, ROW_HEIGHT);
  renderList();
  const item = items.get(index) ?? (await items.ensure(index));
  if (!item || index !== selectedIndex) return;
  selectedId = item.id;
  const request = ++detailRequest;
  try {
    const detail = await api.getItem(item.id);
    if (request === detailRequest) showView(renderDetail(detail, stores));
  } catch (error) {
    if (request === detailRequest) showView(null, h("p", { class: "item-error" }, errorMessage(error)));
  }
}

async function reload(): Promise<void> {
  await items.reset();
  if (selectedId === null) {
    if (items.total > 0) await select(0);
    else renderList();
    return;
  }
  // New items shift positions: keep the highlight on the item being viewed.
  const id = selectedId;
  selectedIndex = items.findLoaded((row) => row.id === id);
  renderList();
}

// Rows are selected on press, through the list: a refresh (an import landing) replaces the row
// elements, and a click whose press and release hit two different elements would be lost.
spacer.addEventListener("mousedown", (event) => {
  if (event.button !== 0) return;
  const row = (event.target as HTMLElement).closest<HTMLElement>(".item-row[data-index]");
  if (row) void select(Number(row.dataset.index));
});
listEl.addEventListener("scroll", () => renderList(), { passive: true });
new ResizeObserver(() => renderList()).observe(listEl);
filterSelect.addEventListener("change", () => { selectedId = null; selectedIndex = -1; void reload(); });
sortSelect.addEventListener("change", () => { selectedId = null; selectedIndex = -1; void reload(); });

// the items screen's keys (the list, the item view); the review screen takes them while open
keys.register("items", (event) => {
  const target = event.target as HTMLElement | null;
  if (target && (target.tagName === "SELECT" || target.tagName === "INPUT")) return false;
  const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
  if (event.key === "ArrowDown" || event.key === "j") void select(Math.min(items.total - 1, selectedIndex + 1));
  else if (event.key === "ArrowUp" || event.key === "k") void select(Math.max(0, selectedIndex - 1));
  else if (event.key === "o" && (event.ctrlKey || event.metaKey)) void openPhotos();
  else if (event.key === "v" && plain) byId("visit-button").click();
  else if (event.key === "w" && plain) reviewOpener?.();
  else return currentView?.key(event) ?? false;
  return true;
});
installKeys(document);

// --- Imports: progress bar, cancel, per-file outcomes ---------------------------------------
const importPanel = byId("import-panel");
const importBar = byId<HTMLProgressElement>("import-progress");
const importLabel = byId("import-label");
const batch = byId("batch");
const batchList = byId("batch-list");
const batchTitle = byId("batch-title");
let activeJob: number | null = null;
let refreshTimer: number | undefined;

function scheduleRefresh(): void {
  // Progress can arrive hundreds of times a second; refresh the list at most every 250 ms.
  if (refreshTimer !== undefined) return;
  refreshTimer = window.setTimeout(() => { refreshTimer = undefined; void reload(); }, 250);
}

function outcomeRow(event: ImportProgress): HTMLElement {
  const { outcome } = event;
  const result = outcome.result;
  let status: string;
  let text: string;
  switch (result.kind) {
    case "imported": status = result.verdict; text = result.verdict === "pass" ? "Pass" : "Fail"; break;
    case "document": status = "document"; text = `PDF, ${result.page_count} page${result.page_count === 1 ? "" : "s"}`; break;
    case "duplicate": status = "duplicate"; text = "Already imported"; break;
    case "failed": status = "failed"; text = result.message; break;
  }
  return h("li", { class: `batch-row batch-${status}`, "data-status": status, title: outcome.path },
    h("span", { class: "batch-name" }, outcome.file_name),
    h("span", { class: "batch-result" }, text));
}

void events.onImportStarted((e) => {
  activeJob = e.job_id;
  importPanel.hidden = false;
  importBar.max = Math.max(1, e.total);
  importBar.value = 0;
  importLabel.textContent = `0 / ${e.total}`;
  batch.hidden = false;
  batchTitle.textContent = `Importing ${e.total} file${e.total === 1 ? "" : "s"}`;
  batchList.replaceChildren();
});

void events.onImportProgress((e) => {
  importBar.max = Math.max(1, e.total);
  importBar.value = e.done;
  importLabel.textContent = `${e.done} / ${e.total}`;
  batchList.prepend(outcomeRow(e));
  // Bounded: a 10,000-photo card must not grow the DOM without end (errors stay in the list).
  while (batchList.childElementCount > BATCH_ROWS_SHOWN) batchList.lastElementChild?.remove();
  scheduleRefresh();
});

void events.onImportFinished((summary: ImportSummary) => {
  if (activeJob === summary.job_id) activeJob = null;
  importPanel.hidden = true;
  const parts = [`${summary.imported} imported`];
  if (summary.duplicates) parts.push(`${summary.duplicates} already there`);
  if (summary.failed) parts.push(`${summary.failed} failed`);
  batchTitle.textContent = `${summary.cancelled ? "Cancelled" : "Done"}: ${parts.join(", ")}`;
  void reload();
});

const dropOverlay = byId("drop-overlay");
void events.onDropHover((hovering) => { dropOverlay.hidden = !hovering; });

byId("import-cancel").addEventListener("click", () => {
  if (activeJob !== null) void api.cancelImport(activeJob);
});
byId("batch-close").addEventListener("click", () => { batch.hidden = true; });

async function openPhotos(): Promise<void> {
  try {
    await api.pickAndImport();
  } catch (error) {
    showBanner(`Could not open the file dialog: ${errorMessage(error)}`);
  }
}
byId("open-photos").addEventListener("click", () => void openPhotos());

setupTheme(byId<HTMLButtonElement>("theme-toggle"));

// --- Stores: whose categories judge photos ----------------------------------------------------
const storeSelect = byId<HTMLSelectElement>("store-select");

function showStores(info: StoresInfo): void {
  stores = info;
  storeSelect.replaceChildren(...(info.stores.length === 0
    ? [h("option", { value: "" }, "No stores")]
    : info.stores.map((s) => h("option", { value: s.id, selected: s.id === info.active }, s.name))));
  storeSelect.disabled = info.stores.length === 0;
  storeSelect.title = `Stores and their categories: ${info.config_path}`;
  if (info.error) showBanner(`Stores config not applied: ${info.error}`);
}

async function loadStores(): Promise<void> {
  try {
    showStores(await api.listStores());
  } catch (error) {
    showBanner(`Could not load the stores: ${errorMessage(error)}`);
  }
}

storeSelect.addEventListener("change", async () => {
  try {
    showStores(await api.setActiveStore(storeSelect.value));
  } catch (error) {
    showBanner(errorMessage(error));
  }
});

async function start(): Promise<void> {
  try {
    const info = await api.appInfo();
    if (info.gate_config_error) {
      showBanner(`Quality gate thresholds not loaded, defaults in use: ${info.gate_config_error}`);
    }
    document.title = `Review Station ${info.version}`;
  } catch (error) {
    showBanner(errorMessage(error));
  }
  await loadStores();
  await reload();
  setupVisitPanel(showBanner, scheduleRefresh);
  const review = setupReview(showBanner);
  byId("review-button").addEventListener("click", () => review.open());
  reviewOpener = () => review.open();
  // The engine check loads ONNX Runtime and hashes the models: after the first screen.
  setupEnginePanel();
  // Listeners are registered above, so the command-line import's progress is not missed.
  await api.uiReady();
}

void start();
