// App-wide state: what every screen may read (the banner, who is working, the station's
// stores, the connection to the router) as signals. A screen's own state stays in the screen.
import { signal } from "@preact/signals";
import type { AppInfo } from "../bindings/AppInfo";
import type { SessionInfo } from "../bindings/SessionInfo";
import type { StoresInfo } from "../bindings/StoresInfo";

/** The one message bar under the top bar: errors the user must see; null hides it. */
export const banner = signal<string | null>(null);

export function showBanner(message: string | null): void {
  banner.value = message;
}

/** The station's facts (version, data directory); null until the first answer. */
export const appInfo = signal<AppInfo | null>(null);

/** Who is working, as the Rust side has it (never kept in the webview's storage). */
export const session = signal<SessionInfo>({ reviewer: null });

/** The stores and their categories; null until loaded. */
export const stores = signal<StoresInfo | null>(null);

/**
 * The station's link to the cloud router. Today the station works on its own ("local"); the sync
 * client adds the states it passes through, and the top bar's badge follows this signal.
 */
export type Connection =
  | { state: "local" }
  | { state: "connecting"; url: string }
  | { state: "online"; url: string; pending: number }
  | { state: "offline"; url: string; pending: number; error: string };

export const connection = signal<Connection>({ state: "local" });

export function connectionLabel(c: Connection): string {
  switch (c.state) {
    case "local": return "Local";
    case "connecting": return "Connecting…";
    case "online": return c.pending > 0 ? `Syncing ${c.pending}` : "Synced";
    case "offline": return c.pending > 0 ? `Offline · ${c.pending} waiting` : "Offline";
  }
}
