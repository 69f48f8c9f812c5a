// The admin screen's code is loaded the first time it opens (like uPlot): most stations never
// show it, and the first screen does not wait for it.
import { signal } from "@preact/signals";
import type { FunctionComponent } from "preact";
import { useEffect } from "preact/hooks";
import { errorMessage } from "../api";
import { adminOpen } from "./admin";

const screen = signal<FunctionComponent | null>(null);
const failed = signal<string | null>(null);

export function LazyAdminScreen() {
  const open = adminOpen();
  useEffect(() => {
    if (!open || screen.value !== null) return;
    import("./AdminScreen")
      .then((m) => { screen.value = m.AdminScreen; failed.value = null; })
      .catch((error: unknown) => { failed.value = errorMessage(error); });
  }, [open]);
  const Screen = screen.value;
  if (Screen) return <Screen />;
  return (
    <section id="admin-screen" class="admin" hidden={!open} aria-label="Admin: the router's dashboards">
      <p class={failed.value ? "model-bad" : "muted"}>{failed.value ? `The admin screen could not load: ${failed.value}` : "Loading…"}</p>
    </section>
  );
}
