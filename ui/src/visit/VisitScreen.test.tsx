import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { VisitPhoto } from "../bindings/VisitPhoto";
import type { FolderState } from "../bindings/FolderState";
import type { VisitState } from "../bindings/VisitState";
import { FolderLine, VisitReport, cloudResultsMayHaveArrived } from "./VisitScreen";

function renderVisit(visit: VisitState): HTMLElement {
  const el = document.createElement("div");
  render(<VisitReport state={visit} />, el);
  return el;
}

function folderLine(folder: FolderState): HTMLElement {
  const el = document.createElement("div");
  render(<FolderLine folder={folder} />, el);
  return el.firstElementChild as HTMLElement;
}

const photo = (file: string, state: VisitPhoto["state"], extra: Partial<VisitPhoto> = {}): VisitPhoto => ({
  item_id: 1, file_name: file, source_path: `/card/${file}`, added_at: "2026-11-22T08:00:00Z", state,
  quality: "pass", reasons: [], guidance: [], category: "Fruit", category_verdict: "predicted", shot: "Fruit display",
  pending_rules: 0, cloud_rules: [], latency_ms: 412.4, duplicate: false, error: null, ...extra,
});

const state = (photos: VisitPhoto[]): VisitState => ({
  visit: { id: 3, store_id: "s1", store_name: "Main Street", auditor: "Ana", started_at: "2026-11-22T08:00:00Z", ended_at: null, import_folder: "/card" },
  checklist: [
    { name: "Fruit display", category: "Fruit", required: 1, accepted: 1, retakes: 0, state: "done", rules: [] },
    { name: "Dairy wall", category: "Packages", required: 2, accepted: 0, retakes: 1, state: "retake", rules: [] },
    { name: "Vegetables", category: "Vegetables", required: 1, accepted: 0, retakes: 0, state: "missing", rules: [] },
  ],
  photos, photos_total: photos.length + 10, pending_cloud: 1,
  folder: { path: "/card", status: "watching", message: null }, config_error: null,
});

describe("the visit report", () => {
  it("shows the checklist, each photo's verdict and what to retake", () => {
    const el = renderVisit(state([
      photo("IMG_2.jpg", "retake", { quality: "fail", reasons: ["blur"], guidance: ["Hold the camera steady."], shot: "Dairy wall", category: "Packages" }),
      photo("IMG_1.jpg", "accepted", { pending_rules: 1 }),
      photo("IMG_3.jpg", "extra", { cloud_rules: [{ rule: "price tags are visible", state: "failed", confidence: 0.8, reason: "two shelves have no tags" }] }),
    ]));
    const rows = [...el.querySelectorAll(".checklist tr")].map((r) => [(r as HTMLElement).dataset.shot, (r as HTMLElement).dataset.state, r.querySelector(".num")?.textContent]);
    expect(rows).toEqual([["Fruit display", "done", "1 / 1"], ["Dairy wall", "retake", "0 / 2"], ["Vegetables", "missing", "0 / 1"]]);
    expect(el.querySelector("h3")?.textContent).toBe("Checklist: 1 of 3 done");
    const retake = el.querySelector('[data-file="IMG_2.jpg"]')!;
    expect(retake.querySelector(".guidance")?.textContent).toBe("Hold the camera steady.");
    expect(retake.querySelector(".row-sub")?.textContent).toContain("Packages → Dairy wall");
    const ok = el.querySelector('[data-file="IMG_1.jpg"]')!;
    expect(ok.querySelector(".guidance")).toBeNull();
    expect(ok.textContent).toContain("1 check pending (cloud)");
    expect(el.querySelector('[data-file="IMG_3.jpg"]')!.textContent).toContain("cloud: price tags are visible — failed (two shelves have no tags)");
    expect(el.querySelector("#visit-pending")?.textContent).toContain("waiting for the network");
    expect(el.querySelector("#visit-more")?.textContent).toBe("Show more (10 older)");
  });

  it("says when the import folder is gone", () => {
    const line = folderLine({ path: "/card", status: "missing", message: "/card is not there (card removed or phone unplugged?); waiting for it" });
    expect(line.dataset.folder).toBe("missing");
    expect(line.textContent).toContain("card removed");
    expect(folderLine({ path: null, status: "none", message: null }).textContent).toContain("No import folder");
  });
});

describe("cloudResultsMayHaveArrived", () => {
  it("refreshes when outbox rows finished while the visit waits for the cloud", () => {
    expect(cloudResultsMayHaveArrived(3, 4, 1)).toBe(true);
    // nothing waits for the cloud, nothing finished, or no status before
    expect(cloudResultsMayHaveArrived(3, 4, 0)).toBe(false);
    expect(cloudResultsMayHaveArrived(4, 4, 2)).toBe(false);
    expect(cloudResultsMayHaveArrived(null, 4, 2)).toBe(false);
    expect(cloudResultsMayHaveArrived(4, null, 2)).toBe(false);
  });
});
