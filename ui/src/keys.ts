// One keyboard dispatcher for the whole window: each screen registers its handler, and a key
// goes to the active screen only (the one on top), so screens never compete for a key and a
// screen that covers another silences it without tricks. Screens to come (login, sync, admin)
// register the same way.

export type ScreenId = "items" | "review" | "login" | "sync" | "admin";

/** Handles a key for its screen; true when it used the key (its default is then prevented). */
export type KeyHandler = (event: KeyboardEvent) => boolean;

export class KeyDispatcher {
  private readonly handlers = new Map<ScreenId, KeyHandler>();
  /** Open screens, the active one last. */
  private readonly open: ScreenId[];

  constructor(base: ScreenId) {
    this.open = [base];
  }

  register(screen: ScreenId, handler: KeyHandler): void {
    this.handlers.set(screen, handler);
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

  /** Gives the key to the active screen; true when it was used. */
  dispatch(event: KeyboardEvent): boolean {
    return this.handlers.get(this.active())?.(event) ?? false;
  }
}

export const keys = new KeyDispatcher("items");

/** The window's only keydown listener (capture phase: before any element's own). */
export function installKeys(target: Pick<Document, "addEventListener">, dispatcher: KeyDispatcher = keys): void {
  target.addEventListener("keydown", (event: Event) => {
    if (dispatcher.dispatch(event as KeyboardEvent)) event.preventDefault();
  }, true);
}
