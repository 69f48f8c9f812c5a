import { defineConfig } from "vitest/config";

// The UI is a static bundle embedded into the app by Tauri; no dev server is needed.
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    // Tauri's CSP forbids inline scripts; keep everything in files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
});
