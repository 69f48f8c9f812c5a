// Typed access to the station's commands and events. Types come from ui/src/bindings, which
// are generated from the Rust types (a test fails when they drift).
import { invoke as tauriInvoke, convertFileSrc, type InvokeArgs } from "@tauri-apps/api/core";
import type { BackupProgress } from "./bindings/BackupProgress";
import type { BackupWritten } from "./bindings/BackupWritten";
import type { Command } from "./commands";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppInfo } from "./bindings/AppInfo";
import type { DiskStatus } from "./bindings/DiskStatus";
import type { DataCheck } from "./bindings/DataCheck";
import type { EngineStatus } from "./bindings/EngineStatus";
import type { ImportProgress } from "./bindings/ImportProgress";
import type { ImportStarted } from "./bindings/ImportStarted";
import type { ImportSummary } from "./bindings/ImportSummary";
import type { ApiError } from "./bindings/ApiError";
import { ERROR_CODES } from "./bindings/constants";
import type { ItemDetail } from "./bindings/ItemDetail";
import type { ItemPage } from "./bindings/ItemPage";
import type { ItemQuery } from "./bindings/ItemQuery";
import type { CategoryResult } from "./bindings/CategoryResult";
import type { OcrPage } from "./bindings/OcrPage";
import type { StoresInfo } from "./bindings/StoresInfo";
import type { Compliance } from "./bindings/Compliance";
import type { DocumentKind } from "./bindings/DocumentKind";
import type { DocumentResult } from "./bindings/DocumentResult";
import type { ExtractProgress } from "./bindings/ExtractProgress";
import type { SessionInfo } from "./bindings/SessionInfo";
import type { PolicyChanged } from "./bindings/PolicyChanged";
import type { UpdateState } from "./bindings/UpdateState";

/**
 * The one way the UI calls Rust: `command` is one of the generated command names, so a renamed
 * or removed command fails the type check (a test keeps other files from importing `invoke`).
 */
function invoke<T>(command: Command, args?: InvokeArgs): Promise<T> {
  return tauriInvoke<T>(command, args).catch((error: unknown) => {
    // the router's session ended (expired, revoked): whoever watches opens the login screen
    if (isApiError(error) && error.code === "session_expired") sessionExpired?.(error);
    if (isApiError(error)) diskProblem?.(error.code, error.message);
    throw error;
  });
}

let sessionExpired: ((error: ApiError) => void) | null = null;
let diskProblem: ((code: ApiError["code"], message: string) => void) | null = null;

/** Called with every command failure's code (the disk notice keeps the disk codes). */
export function onCommandError(handler: ((code: ApiError["code"], message: string) => void) | null): void {
  diskProblem = handler;
}

/** Called whenever a command fails with `session_expired` (the account state sets it). */
export function onSessionExpired(handler: ((error: ApiError) => void) | null): void {
  sessionExpired = handler;
}

/** Whether a command's rejection is the station's `{code, message}` (and not, say, a failed IPC). */
export function isApiError(value: unknown): value is ApiError {
  return typeof value === "object" && value !== null && "message" in value
    && "code" in value && (ERROR_CODES as readonly unknown[]).includes(value.code);
}

/** A readable message for anything a command may throw. */
export function errorMessage(error: unknown): string {
  if (isApiError(error)) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export const api = {
  uiReady: () => invoke<number | null>("ui_ready"),
  appInfo: () => invoke<AppInfo>("app_info"),
  updateState: () => invoke<UpdateState>("update_state"),
  updateCheck: () => invoke<UpdateState>("update_check"),
  updateInstall: () => invoke<UpdateState>("update_install"),
  updateCancel: () => invoke<UpdateState>("update_cancel"),
  updateRestart: () => invoke<void>("update_restart"),
  onUpdateState: (f: (e: UpdateState) => void): Promise<UnlistenFn> =>
    listen<UpdateState>("update-state", (e) => f(e.payload)),
  diskStatus: () => invoke<DiskStatus>("disk_status"),
  checkData: () => invoke<DataCheck>("check_data"),
  engineStatus: () => invoke<EngineStatus>("engine_status"),
  listItems: (query: ItemQuery) => invoke<ItemPage>("list_items", { query }),
  getItem: (id: number) => invoke<ItemDetail>("get_item", { id }),
  pickAndImport: () => invoke<void>("pick_and_import"),
  cancelImport: (jobId: number) => invoke<boolean>("cancel_import", { jobId }),
  listStores: () => invoke<StoresInfo>("list_stores"),
  setActiveStore: (id: string) => invoke<StoresInfo>("set_active_store", { id }),
  judgeCategory: (id: number, expected: string | null) => invoke<CategoryResult>("judge_category", { id, expected }),
  newJob: () => invoke<number>("new_job"),
  backUp: (jobId: number) => invoke<BackupWritten | null>("back_up", { jobId }),
  onBackupProgress: (f: (e: BackupProgress) => void): Promise<UnlistenFn> =>
    listen<BackupProgress>("backup-progress", (e) => f(e.payload)),
  readText: (id: number, page: number, rerun: boolean, jobId: number) =>
    invoke<OcrPage>("read_text", { id, page, rerun, jobId }),
  extractDocument: (id: number, kind: DocumentKind | null, jobId: number) =>
    invoke<DocumentResult>("extract_document", { id, kind, jobId }),
  latestDocument: (id: number) => invoke<DocumentResult | null>("latest_document", { id }),
  compliance: (id: number) => invoke<Compliance>("compliance", { id }),
  /** Who is working: the station keeps it per data directory; review calls act as them. */
  session: () => invoke<SessionInfo>("session"),
  signIn: (name: string) => invoke<SessionInfo>("sign_in", { name }),
  signOut: () => invoke<SessionInfo>("sign_out"),
};

export const events = {
  onPolicyChanged: (f: (e: PolicyChanged) => void): Promise<UnlistenFn> =>
    listen<PolicyChanged>("policy-changed", (e) => f(e.payload)),
  onImportStarted: (f: (e: ImportStarted) => void): Promise<UnlistenFn> =>
    listen<ImportStarted>("import-started", (e) => f(e.payload)),
  onImportProgress: (f: (e: ImportProgress) => void): Promise<UnlistenFn> =>
    listen<ImportProgress>("import-progress", (e) => f(e.payload)),
  onImportFinished: (f: (e: ImportSummary) => void): Promise<UnlistenFn> =>
    listen<ImportSummary>("import-finished", (e) => f(e.payload)),
  onExtractProgress: (f: (e: ExtractProgress) => void): Promise<UnlistenFn> =>
    listen<ExtractProgress>("extract-progress", (e) => f(e.payload)),
  onDropHover: (f: (hovering: boolean) => void): Promise<UnlistenFn> =>
    listen<boolean>("drop-hover", (e) => f(e.payload)),
};

/** URL of a stored photo, served by the app's `rsblob` protocol. */
export function blobUrl(sha256: string): string {
  return convertFileSrc(sha256, "rsblob");
}

/** URL of a rendered PDF page (1-based), served by the same protocol. */
export function pageUrl(sha256: string, page: number): string {
  // convertFileSrc would percent-encode the slashes; the protocol's base URL is platform-specific.
  return `${convertFileSrc("", "rsblob")}page/${sha256}/${page}`;
}

/** URL of a page's thumbnail. */
export function thumbUrl(sha256: string, page: number): string {
  return `${pageUrl(sha256, page)}/thumb`;
}

// --- Store visits ------------------------------------------------------------------------------
import type { VisitInfo } from "./bindings/VisitInfo";
import type { VisitState } from "./bindings/VisitState";
import type { VisitPhotoEvent } from "./bindings/VisitPhotoEvent";
import type { VisitFolderEvent } from "./bindings/VisitFolderEvent";
import type { ReportFormat } from "./bindings/ReportFormat";
import type { ReportWritten } from "./bindings/ReportWritten";
import type { ReportProgress } from "./bindings/ReportProgress";

export const visitApi = {
  current: () => invoke<VisitInfo | null>("current_visit"),
  start: (storeId: string, auditor: string, chooseFolder: boolean) =>
    invoke<VisitInfo | null>("start_visit", { storeId, auditor, chooseFolder }),
  end: (visitId: number) => invoke<VisitInfo>("end_visit", { visitId }),
  state: (visitId: number, offset: number, limit: number) =>
    invoke<VisitState>("visit_state", { visitId, offset, limit }),
  pickPhotos: (visitId: number) => invoke<void>("pick_visit_photos", { visitId }),
  exportReport: (visitId: number, format: ReportFormat, jobId: number) =>
    invoke<ReportWritten | null>("export_visit_report", { visitId, format, jobId }),
};

export const visitEvents = {
  onPhoto: (f: (e: VisitPhotoEvent) => void): Promise<UnlistenFn> =>
    listen<VisitPhotoEvent>("visit-photo", (e) => f(e.payload)),
  onFolder: (f: (e: VisitFolderEvent) => void): Promise<UnlistenFn> =>
    listen<VisitFolderEvent>("visit-folder", (e) => f(e.payload)),
  onStoresChanged: (f: (e: StoresInfo) => void): Promise<UnlistenFn> =>
    listen<StoresInfo>("stores-changed", (e) => f(e.payload)),
  onReportProgress: (f: (e: ReportProgress) => void): Promise<UnlistenFn> =>
    listen<ReportProgress>("report-progress", (e) => f(e.payload)),
};

// --- Review workbench ---------------------------------------------------------------------------
import type { AuditCheck } from "./bindings/AuditCheck";
import type { DecisionInput } from "./bindings/DecisionInput";
import type { DecisionRecord } from "./bindings/DecisionRecord";
import type { EvaluationFormat } from "./bindings/EvaluationFormat";
import type { QueuePage } from "./bindings/QueuePage";
import type { QueueQuery } from "./bindings/QueueQuery";
import type { ReviewInsights } from "./bindings/ReviewInsights";
import type { ReviewMetrics } from "./bindings/ReviewMetrics";
import type { ReviewTask } from "./bindings/ReviewTask";

export const reviewApi = {
  queue: (query: QueueQuery, offset: number, limit: number) => invoke<QueuePage>("review_queue", { query, offset, limit }),
  // every call acts as the session's reviewer (api.signIn): no name is sent with it
  claimNext: (query: QueueQuery, holding: number[]) =>
    invoke<ReviewTask | null>("claim_next", { query, holding }),
  release: (taskId: number) => invoke<boolean>("release_task", { taskId }),
  renew: (taskIds: number[]) => invoke<number[]>("renew_leases", { taskIds }),
  verify: () => invoke<AuditCheck>("verify_audit"),
  decide: (taskId: number, decision: DecisionInput, durationMs: number) =>
    invoke<DecisionRecord>("decide", { taskId, decision, durationMs }),
  undo: (taskId: number) => invoke<DecisionRecord>("undo_decision", { taskId }),
  metrics: () => invoke<ReviewMetrics>("review_metrics"),
  insights: () => invoke<ReviewInsights>("review_insights"),
  exportEvaluation: (format: EvaluationFormat) => invoke<number | null>("export_evaluation", { format }),
};

// --- Sync with the router -----------------------------------------------------------------------
import type { SyncJobPage } from "./bindings/SyncJobPage";
import type { SyncJobState } from "./bindings/SyncJobState";
import type { SyncStatus } from "./bindings/SyncStatus";

export const syncApi = {
  status: () => invoke<SyncStatus>("sync_status"),
  /** Enrols the station with a one-time code; the device key goes to the system keyring. */
  connect: (url: string, code: string, stationName: string) =>
    invoke<SyncStatus>("sync_connect", { url, code, stationName }),
  /** Forgets the router (the outbox is kept and sent on the next connection). */
  disconnect: () => invoke<SyncStatus>("sync_disconnect"),
  jobs: (state: SyncJobState | null, offset: number, limit: number) =>
    invoke<SyncJobPage>("sync_jobs", { state, offset, limit }),
  /** "Retry now": one row, or (null) every row waiting to retry; answers how many moved. */
  retry: (id: number | null) => invoke<number>("sync_retry", { id }),
};

// --- Accounts (router mode: name, password, then an authenticator code) -------------------------
import type { AccountStatus } from "./bindings/AccountStatus";
import type { LoginChallenge } from "./bindings/LoginChallenge";
import type { LoginOutcome } from "./bindings/LoginOutcome";
import type { QrCode } from "./bindings/QrCode";
import type { RecoveryCodes } from "./bindings/RecoveryCodes";

export const accountApi = {
  status: () => invoke<AccountStatus>("account_status"),
  /** The first step: a right password answers the challenge of the second (a code, or enrolment). */
  loginPassword: (name: string, password: string) => invoke<LoginChallenge>("login_password", { name, password }),
  /** The second step: a TOTP code or a recovery code (the other null); enrolment answers the recovery codes. */
  loginCode: (challenge: string, code: string | null, recoveryCode: string | null) =>
    invoke<LoginOutcome>("login_code", { challenge, code, recoveryCode }),
  logout: () => invoke<AccountStatus>("logout"),
  /** A QR code's modules, drawn by the UI as SVG. */
  qrCode: (text: string) => invoke<QrCode>("qr_code", { text }),
  regenerateRecoveryCodes: (code: string) => invoke<RecoveryCodes>("regenerate_recovery_codes", { code }),
};

// --- The admin plane (role admin) ---------------------------------------------------------------
import type { CsvTable } from "./bindings/CsvTable";
import type { DashboardQuery } from "./bindings/DashboardQuery";
import type { DashboardView } from "./bindings/DashboardView";
import type { LiveView } from "./bindings/LiveView";
import type { LocalStats } from "./bindings/LocalStats";
import type { RequestsView } from "./bindings/RequestsView";

export const adminApi = {
  dashboard: (query: DashboardQuery) => invoke<DashboardView>("admin_dashboard", { query }),
  live: () => invoke<LiveView>("admin_live"),
  /** Newest first; `before` (a page's `next_before`) pages back. */
  requests: (query: DashboardQuery, before: string | null) => invoke<RequestsView>("admin_requests", { query, before }),
  /** Rows written; null when the save dialog was cancelled. */
  exportCsv: (table: CsvTable, query: DashboardQuery) => invoke<number | null>("admin_export_csv", { table, query }),
  /** The local engine and reviewers over `[from, to)` (RFC 3339). */
  localStats: (from: string, to: string) => invoke<LocalStats>("local_stats", { from, to }),
};
