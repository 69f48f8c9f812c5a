import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { LoginChallenge } from "../bindings/LoginChallenge";
import type { LoginOutcome } from "../bindings/LoginOutcome";

const accountApi = vi.hoisted(() => ({
  status: vi.fn(), loginPassword: vi.fn(), loginCode: vi.fn(), logout: vi.fn(), qrCode: vi.fn(), regenerateRecoveryCodes: vi.fn(),
}));
const api = vi.hoisted(() => ({ session: vi.fn() }));
const sessionExpired = vi.hoisted(() => ({ handler: null as ((e: unknown) => void) | null }));
vi.mock("../api", async (original) => ({
  ...(await original<typeof import("../api")>()),
  accountApi, api,
  onSessionExpired: (h: (e: unknown) => void) => { sessionExpired.handler = h; },
}));

import { openScreen, route } from "../app/router";
import { banner } from "../app/state";
import { account, loginNotice, setupAccount, signedInWith } from "./account";
import { lastName, resetLogin, step } from "./login";
import { LoginScreen } from "./LoginScreen";

const signedOut: AccountStatus = {
  mode: "router", account: null, expires_at: null, router_url: "https://router.example", sign_in_required: true,
  local_reviewer: null, ended_reason: null,
};
const signedIn: AccountStatus = {
  ...signedOut, account: { id: 3, name: "ana", role: "admin" }, expires_at: "2026-03-10T20:00:00Z", sign_in_required: false,
};
const challenge = (c: Partial<LoginChallenge> = {}): LoginChallenge => ({
  challenge: "ch-1", next: "code", expires_at: new Date(Date.now() + 300_000).toISOString(), otpauth_url: null, ...c,
});
const outcome = (o: Partial<LoginOutcome> = {}): LoginOutcome => ({ status: signedIn, recovery_codes: [], recovery_codes_left: null, ...o });
const OTPAUTH = "otpauth://totp/Review%20Router:ana?secret=JBSWY3DPEHPK3PXP&issuer=Review%20Router";

let el: HTMLElement;

function shown(): HTMLElement {
  el = document.createElement("div");
  document.body.append(el);
  act(() => { render(<LoginScreen />, el); });
  return el;
}

const $ = <T extends Element = HTMLInputElement>(id: string) => el.querySelector<T>(`#${id}`)!;

function type(id: string, value: string): void {
  act(() => {
    const field = $(id);
    field.value = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

async function submit(): Promise<void> {
  await act(async () => { $<HTMLButtonElement>("login-submit").click(); });
}

async function password(name = "ana", pass = "correct horse"): Promise<void> {
  type("login-name", name);
  type("login-password", pass);
  await submit();
}

describe("the login screen", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    resetLogin();
    lastName.value = "";
    loginNotice.value = null;
    banner.value = null;
    account.value = signedOut;
    api.session.mockResolvedValue({ reviewer: "ana" });
    openScreen("login");
  });
  afterEach(() => {
    act(() => { render(null, el); });
    el.remove();
    vi.useRealTimers();
  });

  it("says a wrong password in words and stays on the password", async () => {
    shown();
    expect($<HTMLButtonElement>("login-submit").disabled).toBe(true);
    accountApi.loginPassword.mockRejectedValueOnce({ code: "bad_credentials", message: "unauthorized" });
    await password("ana", "wrong");
    expect(accountApi.loginPassword).toHaveBeenCalledWith("ana", "wrong");
    expect($("login-error").textContent).toBe("The name or password is wrong.");
    expect($("login-name")).not.toBeNull();
    expect(route.value.screen).toBe("login");
  });

  it("disables the submit while the call is in flight", async () => {
    shown();
    accountApi.loginPassword.mockReturnValueOnce(new Promise(() => {}));
    await password();
    expect($<HTMLButtonElement>("login-submit").disabled).toBe(true);
    expect($<HTMLButtonElement>("login-submit").textContent).toBe("Checking…");
  });

  it("shows the router's message for a locked account (it says until when)", async () => {
    shown();
    accountApi.loginPassword.mockRejectedValueOnce({ code: "account_locked", message: "Too many failed sign-ins: locked until 10:45 UTC." });
    await password();
    expect($("login-error").textContent).toBe("Too many failed sign-ins: locked until 10:45 UTC.");
  });

  it("asks for the authenticator's code, says a wrong one, and signs in with the next", async () => {
    shown();
    accountApi.loginPassword.mockResolvedValueOnce(challenge());
    await password();
    const code = $("login-code");
    expect(code.getAttribute("autocomplete")).toBe("one-time-code");
    expect(code.getAttribute("inputmode")).toBe("numeric");
    expect(code.hasAttribute("autofocus")).toBe(true);
    expect(document.activeElement).toBe(code);
    type("login-code", "111 111");
    accountApi.loginCode.mockRejectedValueOnce({ code: "bad_code", message: "401" });
    await submit();
    expect(accountApi.loginCode).toHaveBeenCalledWith("ch-1", "111111", null);
    expect($("login-error").textContent).toBe("That code is wrong or was already used. Wait for the next code.");
    type("login-code", "222222");
    accountApi.loginCode.mockResolvedValueOnce(outcome());
    await submit();
    expect(route.value.screen).toBe("items");
    expect(account.value?.account?.name).toBe("ana");
    expect(api.session).toHaveBeenCalled();
    expect(step.value).toBe("password");
  });

  it("enrols an authenticator: QR code as SVG rects, the otpauth link as text, then the recovery codes once", async () => {
    shown();
    const size = 21;
    const modules = Array.from({ length: size * size }, (_, i) => (i * 7) % 3 === 0);
    accountApi.qrCode.mockResolvedValueOnce({ size, modules });
    accountApi.loginPassword.mockResolvedValueOnce(challenge({ next: "enrol_totp", otpauth_url: OTPAUTH }));
    await password();
    expect(accountApi.qrCode).toHaveBeenCalledWith(OTPAUTH);
    const svg = el.querySelector("svg#login-qr")!;
    expect(svg).not.toBeNull();
    expect(svg.getAttribute("viewBox")).toBe("0 0 29 29");
    const dark = [...svg.querySelectorAll("rect.qr-dark")].reduce((n, r) => n + Number(r.getAttribute("width")), 0);
    expect(dark).toBe(modules.filter(Boolean).length);
    expect(el.querySelector("img")).toBeNull();
    expect(el.innerHTML).not.toContain("data:");
    expect($("otpauth-url").textContent).toBe(OTPAUTH);
    expect(el.textContent).toContain("Scan the QR code with an authenticator app");
    expect(el.querySelector("#login-recovery-toggle")).toBeNull();

    const codes = Array.from({ length: 10 }, (_, i) => `rc-${i}-abcd`);
    accountApi.loginCode.mockResolvedValueOnce(outcome({ recovery_codes: codes }));
    type("login-code", "123456");
    await submit();
    expect(accountApi.loginCode).toHaveBeenCalledWith("ch-1", "123456", null);
    const shownCodes = [...el.querySelectorAll("#recovery-codes li")].map((li) => li.textContent);
    expect(shownCodes).toEqual(codes);
    // not in until the codes were seen
    expect(route.value.screen).toBe("login");
    await act(async () => { $<HTMLButtonElement>("recovery-done").click(); });
    expect(route.value.screen).toBe("items");
    expect(account.value?.account?.role).toBe("admin");
    expect(el.querySelector("#recovery-codes")).toBeNull();
  });

  it("signs in with a recovery code instead, and says how many are left", async () => {
    shown();
    accountApi.loginPassword.mockResolvedValueOnce(challenge());
    await password();
    await act(async () => { $<HTMLButtonElement>("login-recovery-toggle").click(); });
    expect(el.querySelector("#login-code")).toBeNull();
    type("login-recovery", " k3j2-9x8w ");
    accountApi.loginCode.mockResolvedValueOnce(outcome({ recovery_codes_left: 4 }));
    await submit();
    expect(accountApi.loginCode).toHaveBeenCalledWith("ch-1", null, "k3j2-9x8w");
    expect(route.value.screen).toBe("items");
    expect(banner.value).toBe("Signed in with a recovery code: 4 recovery codes left.");
  });

  it("goes back to the password when the challenge has expired, saying so", async () => {
    shown();
    accountApi.loginPassword.mockResolvedValueOnce(challenge({ expires_at: new Date(Date.now() - 1000).toISOString() }));
    await password();
    type("login-code", "123456");
    await submit();
    expect(accountApi.loginCode).not.toHaveBeenCalled();
    expect(el.querySelector("#login-password")).not.toBeNull();
    expect($("login-error").textContent).toBe("The sign-in took too long: enter your password again.");
    // the name is kept
    expect($("login-name").value).toBe("ana");
  });

  it("and by itself when the challenge runs out while waiting", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    shown();
    accountApi.loginPassword.mockResolvedValueOnce(challenge({ expires_at: new Date(Date.now() + 60_000).toISOString() }));
    await password();
    expect(el.querySelector("#login-code")).not.toBeNull();
    await act(async () => { vi.advanceTimersByTime(61_000); });
    expect(el.querySelector("#login-code")).toBeNull();
    expect($("login-error").textContent).toBe("The sign-in took too long: enter your password again.");
  });

  it("goes back to the password when the account is locked under the challenge", async () => {
    shown();
    accountApi.loginPassword.mockResolvedValueOnce(challenge());
    await password();
    type("login-code", "123456");
    accountApi.loginCode.mockRejectedValueOnce({ code: "account_locked", message: "Locked until 11:00 UTC." });
    await submit();
    expect(el.querySelector("#login-password")).not.toBeNull();
    expect($("login-error").textContent).toBe("Locked until 11:00 UTC.");
  });

  it("shows a network failure's message", async () => {
    shown();
    accountApi.loginPassword.mockRejectedValueOnce({ code: "unavailable", message: "The router does not answer (connection refused)" });
    await password();
    expect($("login-error").textContent).toBe("The router does not answer (connection refused)");
  });
});

describe("the account state", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    resetLogin();
    loginNotice.value = null;
    account.value = null;
    act(() => { openScreen("items"); });
  });

  it("opens the login screen at start when a sign-in is required, and when a session ends under a command", async () => {
    accountApi.status.mockResolvedValueOnce(signedOut);
    await setupAccount();
    expect(route.value.screen).toBe("login");

    account.value = signedIn;
    act(() => { openScreen("review"); });
    expect(route.value.screen).toBe("review");
    sessionExpired.handler!({ code: "session_expired", message: "expired" });
    expect(route.value.screen).toBe("login");
    expect(loginNotice.value).toBe("Your session ended — sign in again.");
    expect(account.value?.account).toBeNull();
  });

  it("brings the screen back after the same account signed in again", async () => {
    accountApi.status.mockResolvedValueOnce(signedIn);
    api.session.mockResolvedValue({ reviewer: "ana" });
    await setupAccount();
    act(() => { openScreen("review"); });
    sessionExpired.handler!({ code: "session_expired", message: "expired" });
    expect(route.value.screen).toBe("login");
    await signedInWith(signedIn);
    expect(route.value.screen).toBe("review");
    // another account: the base screen
    act(() => { openScreen("review"); });
    sessionExpired.handler!({ code: "session_expired", message: "expired" });
    await signedInWith({ ...signedIn, account: { id: 9, name: "bo", role: "reviewer" } });
    expect(route.value.screen).toBe("items");
  });

  it("keeps the login on top while one is due, and stays away in local mode", async () => {
    accountApi.status.mockResolvedValueOnce({ ...signedOut, mode: "local", sign_in_required: false, local_reviewer: "Ana" });
    await setupAccount();
    expect(route.value.screen).toBe("items");
    account.value = signedOut;
    expect(route.value.screen).toBe("login");
    act(() => { openScreen("visit"); });
    expect(route.value.screen).toBe("login");
  });
});
