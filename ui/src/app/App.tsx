// The window: the top bar (open files, import progress, the screens' buttons, the active store,
// the engine and connection badges, who is signed in, the theme), the banner, and the screen the
// route names. Items is the base screen; review and admin cover it; the visit and the sync are
// panels beside it; the login covers everything while a sign-in is due.
import { signal } from "@preact/signals";
import { api, errorMessage } from "../api";
import { EngineBadge, EnginePanel, toggleEngine } from "../engine/EnginePanel";
import { DropOverlay, ImportBatch, ImportProgressBar, openFiles } from "../items/Imports";
import { ItemsScreen } from "../items/ItemsScreen";
import { ReviewScreen, openReview } from "../review/ReviewScreen";
import { currentTheme, applyTheme, toggleTheme } from "../theme";
import { SyncScreen } from "../sync/SyncScreen";
import { toggleSync } from "../sync/sync";
import { VisitScreen, toggleVisit, visitBadge } from "../visit/VisitScreen";
import { LazyAdminScreen } from "../admin/LazyAdminScreen";
import { toggleAdmin } from "../admin/admin";
import { isAdmin } from "../login/account";
import { LoginScreen } from "../login/LoginScreen";
import { SessionChrome } from "../login/SessionChrome";
import { route } from "./router";
import { DiskNotice } from "../disk/DiskNotice";
import { AboutDialog, openAbout } from "./About";
import { UpdateButton, UpdateDialog } from "./Update";
import { banner, connection, connectionLabel, showBanner, stores } from "./state";

const theme = signal(currentTheme());
applyTheme(theme.value);

function StorePicker() {
  const info = stores.value;
  const list = info?.stores ?? [];
  return (
    <label class="store-pick">Store{" "}
      <select id="store-select" aria-label="Active store" disabled={list.length === 0} value={info?.active ?? ""}
        title={info ? `Stores and their categories: ${info.config_path}` : undefined}
        onChange={async (e) => {
          try {
            stores.value = await api.setActiveStore((e.target as HTMLSelectElement).value);
          } catch (error) {
            showBanner(errorMessage(error));
          }
        }}>
        {info === null ? <option value="">…</option>
          : list.length === 0 ? <option value="">No stores</option>
          : list.map((s) => <option value={s.id}>{s.name}</option>)}
      </select>
    </label>
  );
}

export function App() {
  const c = connection.value;
  return (
    <>
      <header class="topbar">
        <h1>Review Station</h1>
        <button id="open-photos" class="primary" title="Open photos or PDFs (Ctrl+O)" onClick={() => void openFiles()}>Open photos…</button>
        <ImportProgressBar />
        <span class="spacer" />
        <button id="review-button" title="Review workbench: the queue of doubtful results (W)" onClick={openReview}>Review</button>
        <button id="visit-button" title="Store visit: photos, checklist, report (V)" onClick={toggleVisit}>
          Visit <span id="visit-badge" class="engine-state">{visitBadge.value}</span>
        </button>
        <button id="sync-button" title="Sync with the router: the connection and the outbox (S)" aria-pressed={route.value.screen === "sync" ? "true" : "false"}
          onClick={toggleSync}>Sync</button>
        {isAdmin.value && (
          <button id="admin-button" title="Admin: the router's dashboards, live counters and requests (A)"
            aria-pressed={route.value.screen === "admin" ? "true" : "false"} onClick={toggleAdmin}>Admin</button>
        )}
        <StorePicker />
        <button id="engine-button" title="Local engine: runtime, execution provider, models" onClick={toggleEngine}>Engine <EngineBadge /></button>
        <button id="connection" class={`engine-state connection-badge connection-${c.state}`} data-state={c.state}
          title={`${c.state === "local" ? "Working on this machine only; no router is configured" : c.state === "offline" ? `Router: ${c.url} (${c.error})` : `Router: ${c.url}`}. Click for the sync panel.`}
          onClick={toggleSync}>
          {connectionLabel(c)}
        </button>
        <SessionChrome />
        <UpdateButton />
        <button id="about-button" title="About Review Station: versions of the app, engine and models (F1)" onClick={() => void openAbout()}>About</button>
        <button id="theme-toggle" title="Switch dark / light theme" onClick={() => { theme.value = toggleTheme(theme.value); }}>
          {theme.value === "dark" ? "Light theme" : "Dark theme"}
        </button>
      </header>
      <div id="banner" class="banner" role="alert" hidden={banner.value === null}>{banner.value ?? ""}</div>
      <DiskNotice />
      <ItemsScreen />
      <ImportBatch />
      <EnginePanel />
      <ReviewScreen />
      <VisitScreen />
      <SyncScreen />
      <LazyAdminScreen />
      <LoginScreen />
      <DropOverlay />
      <AboutDialog />
      <UpdateDialog />
    </>
  );
}
