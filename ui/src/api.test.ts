/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

// every UI source file, as text
const sources = import.meta.glob<string>("./*.ts", { query: "?raw", import: "default", eager: true });

describe("the UI's way to Rust", () => {
  it("is api.ts alone: no other file imports Tauri's invoke or listen", () => {
    const names = Object.keys(sources);
    expect(names).toContain("./review.ts");
    const offenders = names
      .filter((f) => f !== "./api.ts" && !f.endsWith(".test.ts"))
      .filter((f) => /@tauri-apps\/api\/(core|event)/.test(sources[f]));
    expect(offenders).toEqual([]);
  });
});
