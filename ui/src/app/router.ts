// The screen router: which screen is up, and which item the items screen shows. Keys follow
// the route: the screen that is up gets them (keys.ts), so opening a screen is one call here.
import { signal } from "@preact/signals";
import { keys, type ScreenId } from "../keys";

/** Every screen: items (the base), review, visit, sync, admin (role admin) and login (router mode). */
export type Screen = ScreenId;

export interface Route {
  /** The screen on top; "items" is the base screen under every other. */
  screen: Screen;
  /** The item the item view shows (the items screen keeps it while another screen is up). */
  item: number | null;
}

export const route = signal<Route>({ screen: "items", item: null });

/** Brings a screen up (it takes the keys). */
export function openScreen(screen: Screen): void {
  if (route.value.screen !== "items") keys.deactivate(route.value.screen);
  if (screen !== "items") keys.activate(screen);
  route.value = { ...route.value, screen };
}

/** Closes a screen if it is up: the items screen is back, with its item. */
export function closeScreen(screen: Screen): void {
  if (route.value.screen !== screen) return;
  keys.deactivate(screen);
  route.value = { ...route.value, screen: "items" };
}

export function toggleScreen(screen: Screen): void {
  if (route.value.screen === screen) closeScreen(screen);
  else openScreen(screen);
}

/** Shows an item in the item view (null: none). */
export function showItem(item: number | null): void {
  if (route.value.item !== item) route.value = { ...route.value, item };
}
