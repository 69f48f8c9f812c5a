import { describe, expect, it } from "vitest";
import { MESSAGES, challengeExpired, isTotpCode, loginErrorMessage, normalizeCode, qrRuns } from "./login";

describe("the login flow's pure parts", () => {
  it("says each refusal in words, and the router's own where it says more", () => {
    expect(loginErrorMessage({ code: "bad_credentials", message: "401" })).toBe("The name or password is wrong.");
    expect(loginErrorMessage({ code: "bad_code", message: "401" })).toBe("That code is wrong or was already used. Wait for the next code.");
    expect(loginErrorMessage({ code: "bad_code", message: "that code is not valid now: the authenticator's clock looks 5 minute(s) behind; set it to the network time and try the next code" }))
      .toBe("That code is not valid now: the authenticator's clock looks 5 minute(s) behind; set it to the network time and try the next code.");
    expect(loginErrorMessage({ code: "session_expired", message: "x" })).toBe("Your session ended — sign in again.");
    expect(loginErrorMessage({ code: "account_locked", message: "Locked after 5 failed attempts, until 10:45 UTC." }))
      .toBe("Locked after 5 failed attempts, until 10:45 UTC.");
    expect(loginErrorMessage({ code: "unavailable", message: "The router does not answer (connection refused)" }))
      .toBe("The router does not answer (connection refused)");
    expect(loginErrorMessage(new Error("IPC failed"))).toBe("IPC failed");
    expect(MESSAGES.challenge_expired).toMatch(/password again/);
  });

  it("knows an expired challenge", () => {
    const c = { challenge: "c", next: "code" as const, expires_at: "2026-03-10T10:00:00Z", otpauth_url: null };
    expect(challengeExpired(c, Date.parse("2026-03-10T09:59:59Z"))).toBe(false);
    expect(challengeExpired(c, Date.parse("2026-03-10T10:00:00Z"))).toBe(true);
    expect(challengeExpired({ ...c, expires_at: "soon" }, 0)).toBe(true);
  });

  it("takes a code with spaces, and six digits only", () => {
    expect(normalizeCode(" 123 456 ")).toBe("123456");
    expect(normalizeCode("123-456")).toBe("123456");
    expect(isTotpCode("123456")).toBe(true);
    for (const bad of ["12345", "1234567", "12345a", ""]) expect(isTotpCode(bad)).toBe(false);
  });

  it("draws a QR code's dark modules as runs, row by row", () => {
    const X = true, o = false;
    expect(qrRuns({ size: 3, modules: [X, X, o, o, o, o, X, o, X] })).toEqual([
      { x: 0, y: 0, width: 2 }, { x: 0, y: 2, width: 1 }, { x: 2, y: 2, width: 1 },
    ]);
    expect(qrRuns({ size: 2, modules: [X, X, X, X] })).toEqual([{ x: 0, y: 0, width: 2 }, { x: 0, y: 1, width: 2 }]);
    expect(qrRuns({ size: 2, modules: [X, X, X] })).toBeNull();
    expect(qrRuns({ size: 0, modules: [] })).toBeNull();
  });
});
