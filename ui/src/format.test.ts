import { describe, expect, it } from "vitest";
import type { ItemRow } from "./bindings/ItemRow";
import {
  formatBytes, formatConfidence, formatThreshold, formatValue, itemState, linesText, polygonPoints, rowSubtitle,
} from "./format";
import { initialTheme } from "./theme";
import { errorMessage } from "./api";

const row = (over: Partial<ItemRow>): ItemRow => ({
  id: 1, blob_sha256: null, file_name: "a.jpg", source_path: "/a.jpg", byte_len: 10, status: "analyzed",
  verdict: "pass", error_code: null, error_message: null, format: "jpeg", width: 10, height: 10,
  created_at: "2026-11-21T10:00:00Z", kind: "photo", page_count: null, expected_category: null,
  category_verdict: null, ...over,
});

describe("format", () => {
  it("formats each check in its unit", () => {
    expect(formatValue("too_small", 239.6)).toBe("240 px");
    expect(formatValue("blur", 0.41234)).toBe("0.412");
    expect(formatValue("over_exposed", 0.3)).toBe("30.0 %");
    expect(formatValue("over_exposed", 221.5)).toBe("221.5");
    expect(formatThreshold({ check: "dark", value: 10, threshold: 45, bound: "min", passed: false, counted: true })).toBe("≥ 45.0");
    expect(formatThreshold({ check: "blur", value: 1, threshold: 0.5, bound: "max", passed: false, counted: true })).toBe("≤ 0.500");
  });
  it("derives item state", () => {
    expect(itemState(row({}))).toBe("pass");
    expect(itemState(row({ verdict: "fail" }))).toBe("fail");
    expect(itemState(row({ status: "error", verdict: null }))).toBe("error");
    expect(itemState(row({ kind: "document", verdict: null, page_count: 3 }))).toBe("document");
    expect(itemState(row({ kind: "document", status: "error", verdict: null }))).toBe("error");
  });
  it("describes rows and text lines", () => {
    expect(rowSubtitle(row({ kind: "document", page_count: 500 }))).toMatch(/^500 pages · /);
    expect(rowSubtitle(row({ kind: "document", page_count: 1 }))).toMatch(/^1 page · /);
    expect(rowSubtitle(row({ status: "error", error_message: "the PDF is password-protected" }))).toBe("the PDF is password-protected");
    expect(rowSubtitle(row({ width: 640, height: 480 }))).toMatch(/^640×480 · /);
    expect(linesText([{ text: "TOTAL" }, { text: "12.50" }])).toBe("TOTAL\n12.50");
    expect(polygonPoints([[1, 2], [3.25, 2], [3.25, 4], [1, 4]])).toBe("1.0,2.0 3.3,2.0 3.3,4.0 1.0,4.0");
    expect(formatConfidence(0.876)).toBe("88 %");
  });
  it("formats bytes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
  it("picks a theme", () => {
    expect(initialTheme(null, true)).toBe("dark");
    expect(initialTheme("light", true)).toBe("light");
    expect(initialTheme("bogus", false)).toBe("light");
  });
  it("renders IPC errors with their code", () => {
    expect(errorMessage({ code: "not_found", message: "no item with id 3" })).toBe("no item with id 3 (not_found)");
    expect(errorMessage(new Error("boom"))).toBe("boom");
  });
});
