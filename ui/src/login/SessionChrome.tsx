// Who is working, where the window shows it: the top bar (router mode: the account, its role and
// Sign out; local mode: the typed name marked "Local (not connected)") and the review screen's
// head (the same, with the local mode's reviewer switch). The name opens the account menu.
import { session } from "../app/state";
import { ROLE_LABELS, account, requireLogin, signOut } from "./account";
import { AccountMenu, menuOpen, toggleMenu } from "./AccountMenu";

/** "Signed in until 18:40" for the name's tooltip. */
function untilText(expiresAt: string | null): string | undefined {
  if (!expiresAt) return undefined;
  const at = new Date(expiresAt);
  return isNaN(at.getTime()) ? undefined : `Signed in until ${at.toLocaleString()}`;
}

const LOCAL_HINT = "Decisions are recorded under the name typed on this station; it has no router account";

function LocalMark({ id }: { id: string }) {
  return <span id={id} class="chip local-mark" title={LOCAL_HINT}>Local (not connected)</span>;
}

/** The top bar's session: nothing until the station answered. */
export function SessionChrome() {
  const s = account.value;
  if (s === null) return null;
  if (s.mode === "local") {
    const name = session.value.reviewer ?? s.local_reviewer;
    return (
      <span id="session" class="session" data-mode="local">
        {name && <span id="session-name" class="session-name">{name}</span>}
        <LocalMark id="session-local" />
      </span>
    );
  }
  const a = s.account;
  if (a === null) {
    return (
      <span id="session" class="session" data-mode="router">
        <button id="sign-in-button" onClick={() => requireLogin(null)}>Sign in</button>
      </span>
    );
  }
  return (
    <span id="session" class="session" data-mode="router">
      <button id="session-name" class="session-name link-button" title={`${untilText(s.expires_at) ?? a.name}. Click for your account`}
        aria-expanded={menuOpen.value} onClick={toggleMenu}>{a.name}</button>
      <AccountMenu until={untilText(s.expires_at)} />
      <span id="session-role" class={`chip role-chip role-${a.role}`} data-role={a.role}>{ROLE_LABELS[a.role]}</span>
      <button id="sign-out" title="Sign out of this station (the tasks on screen go back to the queue)" onClick={() => void signOut()}>Sign out</button>
    </span>
  );
}

/** The review screen's head: the account (router mode) or the typed reviewer and its switch. */
export function ReviewerChrome({ reviewer, switchReviewer }: { reviewer: string; switchReviewer: () => void }) {
  const s = account.value;
  const a = s?.mode === "router" ? s.account : null;
  if (a !== null) {
    return (
      <span class="session" data-mode="router">
        <span id="review-account" class="small" title="Decisions are recorded under this account">{`${a.name} · ${ROLE_LABELS[a.role]}`}</span>
        <button id="review-sign-out" class="small" onClick={() => void signOut()}>Sign out</button>
      </span>
    );
  }
  return (
    <span class="session" data-mode="local">
      <button id="review-reviewer-switch" class="small" title="Decisions are recorded under this name: switch reviewer"
        onClick={switchReviewer}>{reviewer ? `Reviewer: ${reviewer}` : "Reviewer"}</button>
      {s?.mode === "local" && <LocalMark id="review-local-mark" />}
    </span>
  );
}
