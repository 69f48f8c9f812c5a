import { render } from "preact";
import { act } from "preact/test-utils";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountStatus } from "../bindings/AccountStatus";

const accountApi = vi.hoisted(() => ({ status: vi.fn(), logout: vi.fn(), regenerateRecoveryCodes: vi.fn() }));
const api = vi.hoisted(() => ({ session: vi.fn() }));
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), accountApi, api }));

import { closeScreen, route } from "../app/router";
import { session } from "../app/state";
import { account, addSignOutGuard, isAdmin } from "./account";
import { ReviewerChrome, SessionChrome } from "./SessionChrome";
import { closeMenu } from "./AccountMenu";

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

  it("makes new recovery codes from the account menu under a fresh code, and says a wrong one", async () => {
    account.value = router;
    closeMenu();
    const el = shown(<SessionChrome />);
    document.body.append(el); // a form submits only in a document
    const click = (id: string) => act(() => { el.querySelector<HTMLButtonElement>(`#${id}`)!.click(); });
    const type = (text: string) => act(() => {
      const input = el.querySelector<HTMLInputElement>("#account-code")!;
      input.value = text;
      input.dispatchEvent(new Event("input"));
    });
    click("session-name");
    expect(el.querySelector("#account-menu")).not.toBeNull();
    type("12 34");
    await act(async () => { el.querySelector<HTMLButtonElement>("#account-regenerate")!.click(); });
    expect(el.querySelector("#account-menu-error")?.textContent).toBe("Type the 6-digit code your authenticator shows now.");
    expect(accountApi.regenerateRecoveryCodes).not.toHaveBeenCalled();
    accountApi.regenerateRecoveryCodes.mockRejectedValueOnce({ code: "bad_code", message: "that code is wrong or was used already" });
    type("123 456");
    await act(async () => { el.querySelector<HTMLButtonElement>("#account-regenerate")!.click(); });
    expect(accountApi.regenerateRecoveryCodes).toHaveBeenLastCalledWith("123456");
    expect(el.querySelector("#account-menu-error")?.textContent).toBe("That code is wrong or was already used. Wait for the next code.");
    const codes = Array.from({ length: 10 }, (_, i) => `AAAA-BBBB-CC${String(i).padStart(2, "0")}`);
    accountApi.regenerateRecoveryCodes.mockResolvedValueOnce({ codes });
    type("654321");
    await act(async () => { el.querySelector<HTMLButtonElement>("#account-regenerate")!.click(); });
    expect([...el.querySelectorAll("#account-recovery-codes li")].map((li) => li.textContent)).toEqual(codes);
    click("account-codes-done");
    expect(el.querySelector("#account-menu")).toBeNull();
    el.remove();
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
