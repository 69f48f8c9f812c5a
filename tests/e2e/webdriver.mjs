// A small W3C WebDriver client over fetch, plus tauri-driver process management. Enough for the
// end-to-end tests: sessions, finding elements, clicking, reading text, running scripts.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import net from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** A loopback port free now (the OS's pick), for a server started on it later. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Starts tauri-driver on free loopback ports and waits until it answers. */
export async function startDriver() {
  const port = await freePort();
  const nativePort = await freePort();
  const proc = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/status`);
      if (res.ok || res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`tauri-driver exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error("tauri-driver did not start in 30 s");
    await sleep(200);
  }
  return { base, stop: () => proc.kill("SIGTERM") };
}

async function call(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

export class Session {
  static async start(base, application, args) {
    const value = await call(base, "POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application, args } } },
    });
    return new Session(base, value.sessionId, application);
  }

  constructor(base, id, application) {
    this.base = base;
    this.id = id;
    this.application = application;
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async findAll(css) {
    const found = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return found.map((e) => e[ELEMENT]);
  }

  text(element) {
    return this.cmd("GET", `/element/${element}/text`);
  }

  click(element) {
    return this.cmd("POST", `/element/${element}/click`, {});
  }

  /** Finds and clicks the first match, retrying when the list re-renders under the click. */
  async clickCss(css, ms = 10_000) {
    await this.waitFor(`a clickable ${css}`, async () => {
      const [element] = await this.findAll(css);
      if (!element) return false;
      try {
        await this.click(element);
        return true;
      } catch (error) {
        if (/stale element/.test(String(error.message))) return false;
        throw error;
      }
    }, ms);
  }

  /** Presses and releases keys as a user would (W3C actions); `keys` are characters or
   *  WebDriver key codes such as "\uE00F" (PageDown). */
  async press(...keys) {
    const actions = keys.flatMap((key) => [{ type: "keyDown", value: key }, { type: "keyUp", value: key }]);
    await this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
    await this.cmd("DELETE", "/actions").catch(() => {});
  }

  script(source, ...args) {
    return this.cmd("POST", "/execute/sync", { script: source, args });
  }

  /** Polls `probe` until it returns a truthy value or `ms` elapse. */
  async waitFor(what, probe, ms = 30_000) {
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
      await sleep(150);
    }
  }

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /** Ends the session and waits (up to 30 s, on a busy machine) for the app's process to be
   *  gone: the app keeps one process per data directory, so a restart must not find the old one
   *  still there. */
  async close() {
    await this.cmd("DELETE", "").catch(() => {});
    const deadline = Date.now() + 30_000;
    while (this.application) {
      if (!appProcessAlive(this.application)) return;
      if (Date.now() > deadline) throw new Error(`the app (${this.application}) was still running 30 s after its session ended`);
      await sleep(100);
    }
  }
}

/**
 * Whether a process of this binary is still alive, exiting ones included. Found by its kernel
 * name, not its command line: a process that is exiting has no command line any more while it
 * still holds its sockets (its single-instance name on the session bus among them), and a
 * restart in that moment would hand its arguments to the dying one. Zombies hold nothing.
 */
function appProcessAlive(application) {
  const comm = path.basename(application).slice(0, 15);
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const open = stat.indexOf("("), close = stat.lastIndexOf(")");
    const state = stat.slice(close + 2, close + 3);
    if (stat.slice(open + 1, close) === comm && state !== "Z") return true;
  }
  return false;
}
