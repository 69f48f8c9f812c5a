// The processes and tools the end-to-end tests share: a child process stopped by its PID with
// its output kept, gnome-keyring on the run's own D-Bus session bus, polling, SQLite reads and
// the native save dialog driven with xdotool.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const artifacts = process.env.E2E_ARTIFACTS ?? path.join(tmpdir(), "review-station-e2e");

export const xdotool = (args) => execFileSync("xdotool", args, { encoding: "utf8" }).trim();

/** Polls `probe` (no session needed) until it returns a truthy value or `ms` elapse. */
export async function until(what, probe, ms) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last?.message ?? last)}`);
    await sleep(200);
  }
}

/** A process we started: its output kept (for the artifacts on failure), stopped by its PID. */
export class Child {
  constructor(tag, command, args, options = {}) {
    this.tag = tag;
    this.log = [];
    this.proc = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
    this.lines = [];
    this.waiters = [];
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop();
        for (const line of parts) {
          this.log.push(line);
          for (const w of this.waiters) w(line);
        }
      });
    }
  }

  get pid() {
    return this.proc.pid;
  }

  /** Waits for the line that says where it listens ("listening on ADDR"). */
  async listening(ms = 30_000) {
    const seen = this.log.find((l) => l.startsWith("listening on "));
    if (seen) return seen.slice("listening on ".length).trim();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.tag} did not say where it listens in ${ms} ms:\n${this.log.join("\n")}`)), ms);
      this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.tag} exited (${code ?? signal}) before listening:\n${this.log.join("\n")}`));
      });
      this.waiters.push((line) => {
        if (line.startsWith("listening on ")) {
          clearTimeout(timer);
          resolve(line.slice("listening on ".length).trim());
        }
      });
    });
  }

  /** Stops it (SIGKILL: as a crash or a pulled cable would) and waits until it is gone. */
  async kill(signal = "SIGKILL") {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      process.kill(this.proc.pid, signal);
      await Promise.race([this.exited, sleep(10_000)]);
    }
  }

  saveLog() {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(path.join(artifacts, `${this.tag}.log`), this.log.join("\n"));
  }
}

/** Asks the bus itself who owns a name (never the Secret Service, which the bus would start by
 *  activation with this user's real keyrings). */
function busOwnerPid(name) {
  try {
    const reply = execFileSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
      "org.freedesktop.DBus.GetConnectionUnixProcessID", `string:${name}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return Number(reply.match(/uint32 (\d+)/)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function busNames() {
  const reply = execFileSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
    "org.freedesktop.DBus.ListNames"], { encoding: "utf8" });
  return [...reply.matchAll(/string "([^"]+)"/g)].map((m) => m[1]);
}

/**
 * gnome-keyring's Secret Service on this run's session bus, with a fresh login keyring
 * (unlocked) in `home`. It replaces any keyring on the bus, so the bus must be the tests' own:
 * refused on a bus with services of a desktop session on it.
 */
export async function startKeyring(home) {
  // what a bus of the tests' own has: the bus, a keyring, the app (one name per data directory)
  // and what the app's toolkit started by activation (the file dialogs' portal, GTK's helpers)
  const ours = /^(org\.freedesktop\.DBus|org\.freedesktop\.secrets|org\.gnome\.keyring|com\.reviewstation\..*|org\.freedesktop\.(impl\.)?portal\..*|org\.a11y\..*|org\.gtk\..*|ca\.desrt\.dconf)$/;
  const others = busNames().filter((n) => !n.startsWith(":") && !ours.test(n));
  assert.deepEqual(others, [], "this D-Bus session has services on it, as a desktop's has: run the tests on a bus of their own (dbus-run-session)");
  const dir = (name) => { const p = path.join(home, name); mkdirSync(p, { recursive: true }); return p; };
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: dir("data"), XDG_CONFIG_HOME: dir("config"), XDG_RUNTIME_DIR: dir("run") };
  const keyring = new Child("keyring", "gnome-keyring-daemon", ["--foreground", "--replace", "--components=secrets", "--unlock"], { env });
  keyring.proc.stdin.end("the-e2e-login-password");
  await until("gnome-keyring to own org.freedesktop.secrets", () => busOwnerPid("org.freedesktop.secrets") === keyring.pid, 20_000);
  return keyring;
}

/** Runs a query on a SQLite file (the router's ledger, the station's database) with the CLI. */
export function sql(db, query) {
  return execFileSync("sqlite3", ["-json", db, query], { encoding: "utf8" }).trim() || "[]";
}
export const rowsOf = (db, query) => JSON.parse(sql(db, query));

/** Saves through the native save dialog titled `title`, typing `file` as the user would. */
export async function saveAs(session, title, file) {
  const dialog = await session.waitFor("the save dialog", () => {
    try {
      const id = xdotool(["search", "--onlyvisible", "--name", `^${title}$`]).split("\n")[0];
      xdotool(["windowfocus", "--sync", id]);
      return id;
    } catch {
      return null;
    }
  });
  xdotool(["key", "--window", dialog, "ctrl+a"]);
  await sleep(300);
  xdotool(["type", "--delay", "5", file]);
  await sleep(300);
  xdotool(["key", "Return"]);
}

