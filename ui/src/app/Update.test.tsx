import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { UpdateState } from "../bindings/UpdateState";
import { UpdateBody, UpdateButton, updateState } from "./Update";

const offer = { version: "0.2.0", current_version: "0.1.0", notes: "Faster OCR\n<img src=x onerror=alert(1)>", date: "2026-12-01T10:00:00Z" };

function body(state: UpdateState, error: string | null = null): HTMLElement {
  const el = document.createElement("div");
  render(<UpdateBody state={state} error={error} />, el);
  return el;
}

function button(state: UpdateState): HTMLElement {
  updateState.value = state;
  const el = document.createElement("div");
  render(<UpdateButton />, el);
  return el;
}

describe("Update", () => {
  it("shows what is new as text, never as markup", () => {
    const el = body({ state: "available", offer });
    expect(el.querySelector("#update-offer")?.textContent).toContain("Review Station 0.2.0 is available (this is 0.1.0).");
    expect(el.querySelector("#update-notes")?.textContent).toBe(offer.notes);
    expect(el.querySelector("#update-notes img")).toBeNull();
  });
  it("shows the download's progress in megabytes", () => {
    const el = body({ state: "downloading", offer, received: 50_000_000, total: 200_000_000 });
    expect(el.querySelector("#update-progress progress")?.getAttribute("value")).toBe("50000000");
    expect(el.querySelector("#update-progress")?.textContent).toContain("50.0 MB of 200.0 MB");
  });
  it("says which step refused the update", () => {
    const el = body({ state: "failed", step: "verify", message: "the package does not match its signature: nothing was installed", offer });
    const error = el.querySelector("#update-error");
    expect(error?.getAttribute("data-step")).toBe("verify");
    expect(error?.textContent).toBe("The update was refused: the package does not match its signature: nothing was installed");
  });
  it("shows a top-bar button only when there is something to do", () => {
    expect(button({ state: "idle" }).querySelector("#update-button")).toBeNull();
    expect(button({ state: "up_to_date", checked_at: "2026-12-03T10:00:00Z" }).querySelector("#update-button")).toBeNull();
    expect(button({ state: "failed", step: "check", message: "offline", offer: null }).querySelector("#update-button")).toBeNull();
    expect(button({ state: "available", offer }).querySelector("#update-button")?.textContent).toBe("Update 0.2.0");
    expect(button({ state: "downloading", offer, received: 1, total: 4 }).querySelector("#update-button")?.textContent).toBe("Updating 25 %");
    expect(button({ state: "installed", version: "0.2.0" }).querySelector("#update-button")?.textContent).toBe("Restart to update");
  });
});
