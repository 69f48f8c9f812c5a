// Who is signed in, as signals every screen may read: the station's account status (local mode:
// a typed reviewer name; router mode: an account with a role, for as long as its session lasts),
// and the moves that change it. A command failing with `session_expired` opens the login screen.
import { computed, effect, signal, untracked } from "@preact/signals";
import { accountApi, api, errorMessage, onSessionExpired } from "../api";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { Role } from "../bindings/Role";
import { closeScreen, openScreen, route, type Screen } from "../app/router";
import { session, showBanner } from "../app/state";

/** The station's sign-in state; null until the first answer. */
export const account = signal<AccountStatus | null>(null);

/** What the login screen says first (why it is up): the session ended, the challenge expired. */
export const loginNotice = signal<string | null>(null);

export const SESSION_ENDED = "Your session ended — sign in again.";

export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  reviewer: "Reviewer",
  auditor: "Auditor",
  admin: "Admin",
};

/** Router mode: the account signed in (null in local mode, or before anyone signed in). */
export const signedIn = computed(() => {
  const s = account.value;
  return s !== null && s.mode === "router" ? s.account : null;
});

export const role = computed<Role | null>(() => signedIn.value?.role ?? null);

/** The admin screen's entry is offered to admins only (the router checks it too). */
export const isAdmin = computed(() => role.value === "admin");

export const routerMode = computed(() => account.value?.mode === "router");

/** Router mode and nobody signed in: the login screen stays on top until someone is. */
export const signInDue = computed(() => {
  const s = account.value;
  return s !== null && (s.sign_in_required || (s.mode === "router" && s.account === null));
});

/** Hooks run before signing out (the workbench gives its tasks back); false stops the sign-out. */
const signOutGuards: (() => Promise<boolean>)[] = [];

export function addSignOutGuard(guard: () => Promise<boolean>): void {
  signOutGuards.push(guard);
}

/** The account signed in last, and the screen the login came over (it is back after the same
 * account signed in again: a session that ended in the middle of the review). */
let lastName: string | null = null;
let cameFrom: { screen: Screen; name: string | null } | null = null;

function showLogin(): void {
  if (route.value.screen === "login") return;
  cameFrom = { screen: route.value.screen, name: lastName };
  openScreen("login");
}

/** Brings the login screen up (it takes the keys), saying why. */
export function requireLogin(notice: string | null): void {
  loginNotice.value = notice;
  showLogin();
}

/** Takes a status from the station: the login screen comes up when a sign-in is due. */
export function applyAccount(status: AccountStatus): void {
  account.value = status;
  const name = status.mode === "router" ? status.account?.name ?? null : null;
  if (status.sign_in_required) {
    requireLogin(status.ended_reason ? `${SESSION_ENDED} (${status.ended_reason})` : null);
  } else if (route.value.screen === "login") {
    const back = cameFrom;
    cameFrom = null;
    closeScreen("login");
    if (back && back.screen !== "items" && back.screen !== "login" && name !== null && back.name === name) openScreen(back.screen);
  }
  if (name !== null) lastName = name;
}

/** The review calls act as the station's session: read it again after the account changed. */
async function refreshSession(): Promise<void> {
  try {
    session.value = await api.session();
  } catch {
    // the workbench reads it on its own when it opens
  }
}

let watching = false;

/** Reads the account status at start, and watches for sessions that end under a command. */
export async function setupAccount(): Promise<void> {
  if (!watching) {
    watching = true;
    // a screen opened meanwhile (the visit going on at start) does not cover the login
    effect(() => {
      if (signInDue.value && route.value.screen !== "login") untracked(showLogin);
    });
  }
  onSessionExpired(() => {
    const s = account.value;
    // the notice first: the account's change brings the login screen up
    loginNotice.value = SESSION_ENDED;
    if (s !== null) account.value = { ...s, account: null, sign_in_required: true };
    requireLogin(SESSION_ENDED);
  });
  try {
    applyAccount(await accountApi.status());
  } catch (error) {
    showBanner(`Could not read who is signed in: ${errorMessage(error)}`);
  }
}

/** Reads the account status again (the station connected or disconnected: router accounts
 *  start or stop applying); the login screen comes up when a sign-in is due. */
export async function refreshAccount(): Promise<void> {
  try {
    applyAccount(await accountApi.status());
    await refreshSession();
  } catch (error) {
    showBanner(`Could not read who is signed in: ${errorMessage(error)}`);
  }
}

/** A sign-in completed (the login screen calls it once the recovery codes were seen). */
export async function signedInWith(status: AccountStatus): Promise<void> {
  loginNotice.value = null;
  applyAccount(status);
  await refreshSession();
}

/** Router mode's "Sign out": the guards first (nothing unsaved is lost), then the station. */
export async function signOut(): Promise<void> {
  for (const guard of signOutGuards) {
    if (!(await guard())) return;
  }
  try {
    const status = await accountApi.logout();
    loginNotice.value = null;
    applyAccount(status);
    if (status.mode === "router" && status.account === null) requireLogin(null);
  } catch (error) {
    showBanner(errorMessage(error));
  }
  await refreshSession();
}
