// One keyboard dispatcher for the whole window: each screen registers its handler, and a key
// goes to the active screen only (the one on top), so screens never compete for a key and a
// screen that covers another silences it without tricks. The login screen keeps every key
// while it is up (a sign-in is due); the admin screen covers the items like the review screen.

export type ScreenId = "items" | "review" | "visit" | "login" | "sync" | "admin" | "about" | "update";

/** Handles a key for its screen; true when it used the key (its default is then prevented). */
export type KeyHandler = (event: KeyboardEvent) => boolean;

export class KeyDispatcher {
  private readonly handlers = new Map<ScreenId, KeyHandler>();
  /** Screens that leave the keys they do not use to the screen below (a side panel). */
  private readonly passThrough = new Set<ScreenId>();
  /** Open screens, the active one last. */
  private readonly open: ScreenId[];

  constructor(base: ScreenId) {
    this.open = [base];
  }

  register(screen: ScreenId, handler: KeyHandler, options: { passThrough?: boolean } = {}): void {
    this.handlers.set(screen, handler);
    if (options.passThrough) this.passThrough.add(screen);
    else this.passThrough.delete(screen);
  }

  /** The screen comes to the top: it gets the keys until it is closed or another comes up. */
  activate(screen: ScreenId): void {
    this.deactivate(screen);
    this.open.push(screen);
  }

  /** The screen is closed: keys go back to the one below (the base screen stays). */
  deactivate(screen: ScreenId): void {
    const at = this.open.indexOf(screen);
    if (at > 0) this.open.splice(at, 1);
  }

  active(): ScreenId {
    return this.open[this.open.length - 1];
  }

  /** Gives the key to the active screen (and on down, past pass-through ones); true when used. */
  dispatch(event: KeyboardEvent): boolean {
    for (let at = this.open.length - 1; at >= 0; at--) {
      const screen = this.open[at];
      if (this.handlers.get(screen)?.(event)) return true;
      if (!this.passThrough.has(screen)) return false;
    }
    return false;
  }
}

export const keys = new KeyDispatcher("items");

/** The window's only keydown listener (capture phase: before any element's own). */
export function installKeys(target: Pick<Document, "addEventListener">, dispatcher: KeyDispatcher = keys): void {
  target.addEventListener("keydown", (event: Event) => {
    if (dispatcher.dispatch(event as KeyboardEvent)) event.preventDefault();
  }, true);
}
