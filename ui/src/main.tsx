// The webview's entry: renders the window, then starts what the first screen needs and tells
// the station the UI is ready (after the listeners exist, so a command-line import's progress
// is not missed).
import { render } from "preact";
import { api, errorMessage, onCommandError } from "./api";
import { checkDiskAtStart, diskProblem } from "./disk/disk";
import { App } from "./app/App";
import { appInfo, showBanner, stores } from "./app/state";
import { openAbout } from "./app/About";
import { setupUpdates } from "./app/Update";
import { refreshEngine } from "./engine/EnginePanel";
import { openFiles, setupImports } from "./items/Imports";
import { registerItemKeys, reloadItems, scheduleItemsRefresh } from "./items/ItemsScreen";
import { installKeys } from "./keys";
import { setupAdmin, toggleAdmin } from "./admin/admin";
import { setupAccount } from "./login/account";
import { setupLogin } from "./login/LoginScreen";
import { openReview, setupReview } from "./review/ReviewScreen";
import { setupSync, toggleSync } from "./sync/sync";
import { setupVisits, toggleVisit } from "./visit/VisitScreen";
import "./styles.css";

async function loadStores(): Promise<void> {
  try {
    const info = await api.listStores();
    stores.value = info;
    if (info.error) showBanner(`Stores config not applied: ${info.error}`);
  } catch (error) {
    showBanner(`Could not load the stores: ${errorMessage(error)}`);
  }
}

async function checkData(): Promise<void> {
  try {
    const check = await api.checkData();
    if (check.faults > 0) {
      const more = check.faults > check.examples.length ? ` and ${check.faults - check.examples.length} more` : "";
      showBanner(`${check.faults} of ${check.files} stored files are missing or damaged (${check.examples.join("; ")}${more}). ${check.advice ?? ""}`);
    }
  } catch (error) {
    showBanner(`The stored files could not be checked: ${errorMessage(error)}`);
  }
}

async function start(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) throw new Error("index.html has no #app");
  render(<App />, root);
  onCommandError(diskProblem);
  registerItemKeys({ openFiles: () => void openFiles(), visit: toggleVisit, review: openReview, sync: toggleSync, admin: toggleAdmin, about: () => void openAbout() });
  installKeys(document);
  setupLogin();
  setupAdmin();
  // who is signed in first: router mode without a session opens the login screen
  void setupAccount();
  // the connection badge follows the sync status from the start (polled; paused while hidden)
  setupSync();
  // the release the router offers (asked in Rust at start and on connecting)
  void setupUpdates();
  setupImports(scheduleItemsRefresh, () => void reloadItems());
  try {
    const info = await api.appInfo();
    appInfo.value = info;
    if (info.gate_config_error) showBanner(`Quality gate thresholds not loaded, defaults in use: ${info.gate_config_error}`);
    document.title = `Review Station ${info.version}`;
  } catch (error) {
    showBanner(errorMessage(error));
  }
  await loadStores();
  await reloadItems();
  void setupVisits(scheduleItemsRefresh);
  setupReview();
  // The engine check loads ONNX Runtime and hashes the models: after the first screen.
  void refreshEngine();
  // Every stored file the database refers to, looked at once (sizes only; bytes when read);
  // data that cannot be written is said at once (read-only mode).
  void checkData();
  void checkDiskAtStart();
  await api.uiReady();
}

void start();
