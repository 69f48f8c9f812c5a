import { describe, expect, it } from "vitest";
import { KeyDispatcher } from "./keys";

const key = (k: string) => new KeyboardEvent("keydown", { key: k });

describe("the keyboard dispatcher", () => {
  it("gives a key to the active screen only, and back to the one below when it closes", () => {
    const seen: string[] = [];
    const d = new KeyDispatcher("items");
    d.register("items", (e) => { seen.push(`items:${e.key}`); return true; });
    d.register("review", (e) => { seen.push(`review:${e.key}`); return e.key === "a"; });
    expect(d.dispatch(key("j"))).toBe(true);
    d.activate("review");
    expect(d.active()).toBe("review");
    expect(d.dispatch(key("a"))).toBe(true);
    expect(d.dispatch(key("j"))).toBe(false); // the review screen does not use it; items never sees it
    d.deactivate("review");
    d.dispatch(key("k"));
    expect(seen).toEqual(["items:j", "review:a", "review:j", "items:k"]);
  });

  it("keeps the base screen and a screen opened twice once", () => {
    const d = new KeyDispatcher("items");
    d.deactivate("items");
    expect(d.active()).toBe("items");
    d.activate("review");
    d.activate("login");
    d.activate("review");
    expect(d.active()).toBe("review");
    d.deactivate("review");
    expect(d.active()).toBe("login");
  });

  it("lets a side panel leave the keys it does not use to the screen below", () => {
    const seen: string[] = [];
    const d = new KeyDispatcher("items");
    d.register("items", (e) => { seen.push(`items:${e.key}`); return e.key === "j"; });
    d.register("visit", (e) => { seen.push(`visit:${e.key}`); return e.key === "Escape"; }, { passThrough: true });
    d.activate("visit");
    expect(d.dispatch(key("Escape"))).toBe(true);
    expect(d.dispatch(key("j"))).toBe(true);
    expect(d.dispatch(key("q"))).toBe(false);
    expect(seen).toEqual(["visit:Escape", "visit:j", "items:j", "visit:q", "items:q"]);
  });
});
