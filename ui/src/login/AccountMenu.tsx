// The signed-in person's menu (a click on the name in the top bar): until when the session
// holds, and new recovery codes (the authenticator's current code asked first; the old codes
// are void once the router answers; the new ones are shown once).
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { accountApi, isApiError } from "../api";
import { isTotpCode, loginErrorMessage, normalizeCode } from "./login";

export const menuOpen = signal(false);
export const menuCode = signal("");
export const newCodes = signal<string[] | null>(null);
export const menuError = signal<string | null>(null);
export const menuBusy = signal(false);

export function toggleMenu(): void {
  if (menuOpen.value) closeMenu();
  else menuOpen.value = true;
}

export function closeMenu(): void {
  menuOpen.value = false;
  menuCode.value = "";
  newCodes.value = null;
  menuError.value = null;
}

/** Asks the router for new recovery codes under the code typed. */
export async function regenerateCodes(): Promise<void> {
  const code = normalizeCode(menuCode.value);
  if (!isTotpCode(code)) {
    menuError.value = "Type the 6-digit code your authenticator shows now.";
    return;
  }
  menuBusy.value = true;
  menuError.value = null;
  try {
    newCodes.value = (await accountApi.regenerateRecoveryCodes(code)).codes;
    menuCode.value = "";
  } catch (error) {
    // an ended session brings the login screen up (api.ts's handler): the menu goes with it
    if (isApiError(error) && error.code === "session_expired") {
      closeMenu();
      return;
    }
    menuError.value = loginErrorMessage(error);
  } finally {
    menuBusy.value = false;
  }
}

export function AccountMenu({ until }: { until: string | undefined }) {
  const field = useRef<HTMLInputElement>(null);
  const done = useRef<HTMLButtonElement>(null);
  const codes = newCodes.value;
  useEffect(() => { (codes ? done : field).current?.focus(); }, [codes]);
  if (!menuOpen.value) return null;
  return (
    <div id="account-menu" class="account-menu" role="dialog" aria-label="Your account"
      onKeyDown={(e) => { if (e.key === "Escape") { e.stopPropagation(); closeMenu(); } }}>
      {until && <p class="small muted" id="account-until">{until}</p>}
      {codes === null ? (
        <form onSubmit={(e) => { e.preventDefault(); void regenerateCodes(); }}>
          <h3>New recovery codes</h3>
          <p class="small">The 10 codes you have now stop working. Type the code your authenticator shows to confirm.</p>
          <label for="account-code">Authenticator code</label>
          <input id="account-code" ref={field} inputMode="numeric" autoComplete="one-time-code" maxLength={9}
            value={menuCode.value} onInput={(e) => { menuCode.value = (e.target as HTMLInputElement).value; }} />
          {menuError.value && <p id="account-menu-error" class="model-bad small" role="alert">{menuError.value}</p>}
          <div class="row">
            <button id="account-regenerate" class="primary" type="submit" disabled={menuBusy.value}>
              {menuBusy.value ? "Asking the router…" : "Make new codes"}</button>
            <button type="button" onClick={closeMenu}>Close</button>
          </div>
        </form>
      ) : (
        <div>
          <h3>Your new recovery codes</h3>
          <p class="small">The old ones no longer work. Save these somewhere safe now: they are shown this once.</p>
          <ol id="account-recovery-codes" class="recovery-codes">
            {codes.map((c) => <li key={c}><code>{c}</code></li>)}
          </ol>
          <button id="account-codes-done" class="primary" ref={done} onClick={closeMenu}>I have saved them</button>
        </div>
      )}
    </div>
  );
}
