import { render } from "preact";
import { act } from "preact/test-utils";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountStatus } from "../bindings/AccountStatus";

const accountApi = vi.hoisted(() => ({ status: vi.fn(), logout: vi.fn() }));
const api = vi.hoisted(() => ({ session: vi.fn() }));
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), accountApi, api }));

import { closeScreen, route } from "../app/router";
import { session } from "../app/state";
import { account, addSignOutGuard, isAdmin } from "./account";
import { ReviewerChrome, SessionChrome } from "./SessionChrome";

const router: AccountStatus = {
  mode: "router", account: { id: 1, name: "ana", role: "admin" }, expires_at: "2026-03-10T20:00:00Z",
  router_url: "https://router.example", sign_in_required: false, local_reviewer: null, ended_reason: null,
};
const localMode: AccountStatus = { ...router, mode: "local", account: null, expires_at: null, router_url: null, local_reviewer: "Bo" };

function shown(node: preact.ComponentChild): HTMLElement {
  const el = document.createElement("div");
  act(() => { render(node, el); });
  return el;
}

describe("who is signed in, in the window's chrome", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    closeScreen("login");
    session.value = { reviewer: null };
  });

  it("shows the account, its role and Sign out in router mode", () => {
    account.value = router;
    const el = shown(<SessionChrome />);
    expect(el.querySelector("#session-name")?.textContent).toBe("ana");
    expect(el.querySelector("#session-role")?.textContent).toBe("Admin");
    expect(el.querySelector("#sign-out")?.textContent).toBe("Sign out");
    expect(el.querySelector("#session-local")).toBeNull();
    expect(isAdmin.value).toBe(true);
    const head = shown(<ReviewerChrome reviewer="ana" switchReviewer={() => {}} />);
    expect(head.querySelector("#review-account")?.textContent).toBe("ana · Admin");
    expect(head.querySelector("#review-reviewer-switch")).toBeNull();
  });

  it("marks the typed name Local (not connected) in local mode", () => {
    account.value = localMode;
    session.value = { reviewer: "Bo" };
    const el = shown(<SessionChrome />);
    expect(el.querySelector("#session-name")?.textContent).toBe("Bo");
    expect(el.querySelector("#session-local")?.textContent).toBe("Local (not connected)");
    expect(el.querySelector("#sign-out")).toBeNull();
    expect(isAdmin.value).toBe(false);
    const head = shown(<ReviewerChrome reviewer="Bo" switchReviewer={() => {}} />);
    expect(head.querySelector("#review-reviewer-switch")?.textContent).toBe("Reviewer: Bo");
    expect(head.querySelector("#review-local-mark")?.textContent).toBe("Local (not connected)");
  });

  it("signs out once the guards agree, and the login screen comes up", async () => {
    account.value = router;
    let allow = false;
    const guard = vi.fn(async () => allow);
    addSignOutGuard(guard);
    const el = shown(<SessionChrome />);
    await act(async () => { el.querySelector<HTMLButtonElement>("#sign-out")!.click(); });
    expect(guard).toHaveBeenCalled();
    expect(accountApi.logout).not.toHaveBeenCalled();
    allow = true;
    accountApi.logout.mockResolvedValueOnce({ ...router, account: null, expires_at: null, sign_in_required: true });
    api.session.mockResolvedValueOnce({ reviewer: null });
    await act(async () => { el.querySelector<HTMLButtonElement>("#sign-out")!.click(); });
    for (let i = 0; i < 5; i++) await act(async () => { await Promise.resolve(); });
    expect(accountApi.logout).toHaveBeenCalled();
    expect(route.value.screen).toBe("login");
    expect(el.querySelector("#sign-in-button")).not.toBeNull();
  });
});
