import { useEffect, useState } from "preact/hooks";

type Theme = "light" | "dark" | "system";
const KEY = "trove.theme";

function apply(theme: Theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

apply((localStorage.getItem(KEY) as Theme | null) ?? "system");

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem(KEY) as Theme | null) ?? "system");
  useEffect(() => {
    apply(theme);
    if (theme === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  }, [theme]);
  return (
    <div class="theme">
      <label for="theme-select" class="visually-hidden">Theme</label>
      <select id="theme-select" value={theme} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </div>
  );
}
