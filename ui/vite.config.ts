import { defineConfig, type Plugin } from "vitest/config";

/**
 * Tauri freezes Object.prototype before the page runs (`freezePrototype`, against prototype
 * pollution). Under it, `X.prototype.valueOf = …` throws ("the override mistake": an inherited
 * read-only property cannot be shadowed by assignment), and @preact/signals-core assigns
 * `valueOf` and `toString` so. They are defined as own properties instead; the build fails if
 * the pinned version stops matching, rather than shipping a page that dies on load.
 */
function signalsUnderFrozenPrototypes(): Plugin {
  // the pinned version's methods are one-liners: `function(){return this.value}`
  const pattern = /(\w+)\.prototype\.(valueOf|toString)=(function\(\)\{[^{}]*\})/g;
  return {
    name: "signals-under-frozen-prototypes",
    enforce: "pre",
    transform(code, id) {
      if (!/@preact[\\/]signals-core[\\/]dist[\\/]/.test(id)) return null;
      const names = new Set([...code.matchAll(pattern)].map((m) => m[2]));
      if (!names.has("valueOf") || !names.has("toString")) {
        throw new Error(`${id}: @preact/signals-core no longer assigns valueOf/toString as expected; check it under a frozen Object.prototype`);
      }
      return code.replace(pattern, (_m, owner: string, name: string, method: string) =>
        `Object.defineProperty(${owner}.prototype,"${name}",{writable:true,configurable:true,value:${method}})`);
    },
  };
}

// The UI is a static bundle embedded into the app by Tauri; no dev server is needed.
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  plugins: [signalsUnderFrozenPrototypes()],
  // Preact's automatic JSX runtime (the components are .tsx)
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
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
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
