import { describe, expect, it, vi } from "vitest";

const core = vi.hoisted(() => ({ invoke: vi.fn(), convertFileSrc: vi.fn() }));
vi.mock("@tauri-apps/api/core", () => core);

import { adminApi, onSessionExpired } from "./api";

describe("a command failing with session_expired", () => {
  it("tells the account state, and still fails for its caller", async () => {
    const seen: unknown[] = [];
    onSessionExpired((e) => seen.push(e));
    const expired = { code: "session_expired", message: "The router ended the session" };
    core.invoke.mockRejectedValueOnce(expired);
    await expect(adminApi.live()).rejects.toBe(expired);
    expect(seen).toEqual([expired]);
    core.invoke.mockRejectedValueOnce({ code: "forbidden", message: "admins only" });
    await expect(adminApi.live()).rejects.toMatchObject({ code: "forbidden" });
    expect(seen).toHaveLength(1);
    onSessionExpired(null);
  });

  it("sends the arguments under the names the commands take", async () => {
    core.invoke.mockResolvedValue(null);
    const query = { from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z" };
    await adminApi.requests(query, "cursor");
    expect(core.invoke).toHaveBeenLastCalledWith("admin_requests", { query, before: "cursor" });
    await adminApi.exportCsv("shares", query);
    expect(core.invoke).toHaveBeenLastCalledWith("admin_export_csv", { table: "shares", query });
    await adminApi.localStats(query.from, query.to);
    expect(core.invoke).toHaveBeenLastCalledWith("local_stats", { from: query.from, to: query.to });
  });
});
