/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

// every UI source file, as text
const sources = import.meta.glob<string>(["./**/*.ts", "./**/*.tsx", "!./bindings/**"], { query: "?raw", import: "default", eager: true });

describe("the UI's way to Rust", () => {
  it("is api.ts alone: no other file imports Tauri's invoke or listen", () => {
    const names = Object.keys(sources);
    expect(names).toContain("./review/workbench.ts");
    expect(names).toContain("./review/ReviewScreen.tsx");
    const offenders = names
      .filter((f) => f !== "./api.ts" && !/\.test\.tsx?$/.test(f))
      .filter((f) => /@tauri-apps\/api\/(core|event)/.test(sources[f]));
    expect(offenders).toEqual([]);
  });
});
