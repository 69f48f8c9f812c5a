// Dark and light themes: follows the OS until the user picks one, then remembers the choice.
export type Theme = "dark" | "light";
const KEY = "review-station-theme";

export function initialTheme(stored: string | null, prefersDark: boolean): Theme {
  if (stored === "dark" || stored === "light") return stored;
  return prefersDark ? "dark" : "light";
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

/** The theme now; set it with `toggleTheme`. */
export function currentTheme(): Theme {
  const prefersDark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  return initialTheme(localStorage.getItem(KEY), prefersDark);
}

/** Switches dark ⇄ light and remembers the choice. */
export function toggleTheme(theme: Theme): Theme {
  const next = theme === "dark" ? "light" : "dark";
  localStorage.setItem(KEY, next);
  applyTheme(next);
  return next;
}
