// The items screen, the base screen: the list of imported photos and PDFs (paged and windowed:
// only visible rows exist) beside the item view of the one selected. Its keys: ↑/↓ (J/K) move,
// Ctrl+O opens files, V / W / S / A open the visit, the review, the sync, the admin screen (admins);
// the rest go to the item view.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { ItemDetail } from "../bindings/ItemDetail";
import type { ItemRow } from "../bindings/ItemRow";
import type { ItemSort } from "../bindings/ItemSort";
import type { VerdictFilter } from "../bindings/VerdictFilter";
import { CATEGORY_LABELS, STATE_LABELS, itemState, rowSubtitle } from "../format";
import { keys } from "../keys";
import { route, showItem } from "../app/router";
import { showBanner, stores } from "../app/state";
import { PagedList, scrollToReveal, visibleRange } from "../virtual-list";
import { EmptyItem, ItemView, type ItemKeys } from "./ItemView";

const ROW_HEIGHT = 52;

const verdict = signal<VerdictFilter>("all");
const sort = signal<ItemSort>("newest");
/** Bumped when a page of rows arrives (the list's rows live in the PagedList). */
const version = signal(0);
const selectedIndex = signal(-1);
const viewport = signal({ top: 0, height: 0 });
const detail = signal<{ item: ItemDetail } | { error: string } | null>(null);

const items = new PagedList<ItemRow>(
  (offset, limit) => api.listItems({ verdict: verdict.value, sort: sort.value, offset, limit }),
  () => { version.value += 1; },
  200,
  (error) => showBanner(`Could not load the list: ${errorMessage(error)}`),
);

let listEl: HTMLDivElement | null = null;
let detailRequest = 0;
const itemKeys: { current: ItemKeys | null } = { current: null };

async function loadDetail(id: number | null): Promise<void> {
  const request = ++detailRequest;
  if (id === null) { detail.value = null; return; }
  try {
    const item = await api.getItem(id);
    if (request === detailRequest) detail.value = { item };
  } catch (error) {
    if (request === detailRequest) detail.value = { error: errorMessage(error) };
  }
}

export async function selectItem(index: number): Promise<void> {
  if (index < 0 || index >= items.total) return;
  selectedIndex.value = index;
  if (listEl) listEl.scrollTop = scrollToReveal(index, listEl.scrollTop, listEl.clientHeight, ROW_HEIGHT);
  const item = items.get(index) ?? (await items.ensure(index));
  if (!item || index !== selectedIndex.value) return;
  if (route.value.item === item.id) void loadDetail(item.id);
  else showItem(item.id);
}

/** Loads the list again (new items, another filter), keeping the item being viewed. */
export async function reloadItems(): Promise<void> {
  await items.reset();
  const id = route.value.item;
  if (id === null) {
    if (items.total > 0) await selectItem(0);
    return;
  }
  // New items shift positions: keep the highlight on the item being viewed.
  selectedIndex.value = items.findLoaded((row) => row.id === id);
}

let refreshTimer: number | undefined;
/** Progress can arrive hundreds of times a second; the list is refreshed at most every 250 ms. */
export function scheduleItemsRefresh(): void {
  if (refreshTimer !== undefined) return;
  refreshTimer = window.setTimeout(() => { refreshTimer = undefined; void reloadItems(); }, 250);
}

function newQuery(): void {
  showItem(null);
  selectedIndex.value = -1;
  void reloadItems();
}

/** The items screen's keys (the list, the item view); other screens take them while up. */
export function registerItemKeys(actions: { openFiles: () => void; visit: () => void; review: () => void; sync: () => void; admin: () => void; about: () => void }): void {
  keys.register("items", (event) => {
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === "SELECT" || target.tagName === "INPUT")) return false;
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    if (event.key === "ArrowDown" || event.key === "j") void selectItem(Math.min(items.total - 1, selectedIndex.value + 1));
    else if (event.key === "ArrowUp" || event.key === "k") void selectItem(Math.max(0, selectedIndex.value - 1));
    else if (event.key === "o" && (event.ctrlKey || event.metaKey)) actions.openFiles();
    else if (event.key === "v" && plain) actions.visit();
    else if (event.key === "w" && plain) actions.review();
    else if (event.key === "s" && plain) actions.sync();
    else if (event.key === "a" && plain) actions.admin();
    else if (event.key === "F1") actions.about();
    else return itemKeys.current?.(event) ?? false;
    return true;
  });
}

function Row({ index, item, selected }: { index: number; item: ItemRow | undefined; selected: boolean }) {
  const top = `${index * ROW_HEIGHT}px`;
  if (!item) return <div class="item-row placeholder" style={{ top }}><span class="muted">…</span></div>;
  const state = itemState(item);
  const category = item.category_verdict;
  return (
    <div class={`item-row${selected ? " selected" : ""}`} role="option" aria-selected={selected ? "true" : "false"}
      data-id={item.id} data-index={index} data-state={state} style={{ top }}>
      <span class={`verdict verdict-${state}`}>{STATE_LABELS[state]}</span>
      <span class="row-text">
        <span class="row-title">{item.file_name}</span>
        <span class={`row-sub${state === "error" ? " item-error-text" : ""}`}>{rowSubtitle(item)}</span>
      </span>
      {category && category !== "predicted" && category !== "match" && (
        <span class={`chip category-${category}`} title={CATEGORY_LABELS[category] ?? category}>{CATEGORY_LABELS[category] ?? category}</span>
      )}
    </div>
  );
}

function ItemList() {
  const list = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = list.current;
    if (!el) return;
    listEl = el;
    const observer = new ResizeObserver(() => { viewport.value = { top: el.scrollTop, height: el.clientHeight }; });
    observer.observe(el);
    return () => { observer.disconnect(); listEl = null; };
  }, []);
  void version.value;
  const range = visibleRange(viewport.value.top, viewport.value.height, ROW_HEIGHT, items.total);
  const rows = [];
  for (let i = range.start; i < range.end; i++) {
    rows.push(<Row key={i} index={i} item={items.get(i)} selected={i === selectedIndex.value} />);
  }
  return (
    <div id="list" class="list" tabIndex={0} role="listbox" aria-label="Photos" ref={list}
      onScroll={(e) => { const el = e.currentTarget as HTMLElement; viewport.value = { top: el.scrollTop, height: el.clientHeight }; }}>
      {/* Rows are selected on press: a refresh (an import landing) may replace a row between
          press and release, and a click would be lost. */}
      <div id="list-spacer" class="list-spacer" style={{ height: `${items.total * ROW_HEIGHT}px` }}
        onMouseDown={(event) => {
          if (event.button !== 0) return;
          const row = (event.target as HTMLElement).closest<HTMLElement>(".item-row[data-index]");
          if (row) void selectItem(Number(row.dataset.index));
        }}>
        {rows}
      </div>
    </div>
  );
}

export function ItemsScreen() {
  const id = route.value.item;
  useEffect(() => { void loadDetail(id); }, [id]);
  void version.value;
  const shown = detail.value;
  return (
    <main class="layout">
      <section class="list-pane" aria-label="Items">
        <div class="filters">
          <label>Show{" "}
            <select id="filter-verdict" value={verdict.value}
              onChange={(e) => { verdict.value = (e.target as HTMLSelectElement).value as VerdictFilter; newQuery(); }}>
              <option value="all">All</option>
              <option value="fail">Failed</option>
              <option value="pass">Passed</option>
              <option value="error">Errors</option>
            </select>
          </label>
          <label>Sort{" "}
            <select id="sort" value={sort.value}
              onChange={(e) => { sort.value = (e.target as HTMLSelectElement).value as ItemSort; newQuery(); }}>
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
              <option value="verdict">Problems first</option>
              <option value="name">Name</option>
            </select>
          </label>
          <span id="count" class="muted">{`${items.total} item${items.total === 1 ? "" : "s"}`}</span>
        </div>
        <ItemList />
      </section>
      <section id="detail" class="detail-pane" aria-live="polite">
        {id === null || shown === null ? <EmptyItem />
          : "error" in shown ? <p class="item-error">{shown.error}</p>
          : <ItemView key={shown.item.item.id} detail={shown.item} stores={stores.value} keysRef={itemKeys} />}
      </section>
    </main>
  );
}
