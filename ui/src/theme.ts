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

export function setupTheme(button: HTMLButtonElement): void {
  const prefersDark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  let theme = initialTheme(localStorage.getItem(KEY), prefersDark);
  const render = () => {
    applyTheme(theme);
    button.textContent = theme === "dark" ? "Light theme" : "Dark theme";
  };
  render();
  button.addEventListener("click", () => {
    theme = theme === "dark" ? "light" : "dark";
    localStorage.setItem(KEY, theme);
    render();
  });
}
