// The category verdict beside the quality verdict: which store category the photo looks like,
// how sure, and the category expected of it (changing it judges the photo again).
import { api, errorMessage } from "./api";
import type { CategoryResult } from "./bindings/CategoryResult";
import type { StoresInfo } from "./bindings/StoresInfo";
import { h } from "./dom";
import { CATEGORY_LABELS } from "./format";

export function categoryPanel(itemId: number, initial: CategoryResult | null, stores: StoresInfo | null): HTMLElement {
  const body = h("div", { class: "category-body" });
  const section = h("section", { class: "category-panel" }, h("h3", {}, "Category"), body);
  const active = stores?.stores.find((s) => s.id === stores.active) ?? null;

  const render = (result: CategoryResult | null, error?: string) => {
    if (!active && !result) {
      body.replaceChildren(h("p", { class: "muted small" },
        "No store categories yet. Add a store with reference-photo folders to ",
        h("code", {}, stores?.config_path ?? "stores.toml"), "."));
      return;
    }
    const names = active?.categories.filter((c) => !c.problem || c.reference_count > 0 || c.imagenet.length > 0).map((c) => c.name) ?? [];
    const select = h("select", { class: "expected-category", "aria-label": "Expected category" },
      h("option", { value: "" }, "— not set —"),
      ...names.map((n) => h("option", { value: n, selected: result?.verdict.expected === n }, n)));
    select.addEventListener("change", async () => {
      select.disabled = true;
      try {
        render(await api.judgeCategory(itemId, select.value || null));
      } catch (e) {
        render(result, errorMessage(e));
      }
    });
    const judge = h("button", { class: "judge-category" }, result ? "Judge again" : "Judge");
    judge.addEventListener("click", async () => {
      judge.disabled = true;
      try {
        render(await api.judgeCategory(itemId, select.value || null));
      } catch (e) {
        render(result, errorMessage(e));
      }
    });
    const children: (HTMLElement | null)[] = [
      h("label", { class: "small" }, "Expected ", select, " ", judge),
    ];
    if (result) {
      const v = result.verdict;
      children.unshift(h("p", {},
        h("span", { class: `verdict category-${v.verdict}`, "data-category-verdict": v.verdict },
          CATEGORY_LABELS[v.verdict] ?? v.verdict),
        " ",
        v.verdict === "irrelevant" ? h("span", { class: "muted" }, "far from every category") : h("strong", { class: "predicted" }, v.predicted ?? "—")));
      children.push(h("table", { class: "checks" },
        h("thead", {}, h("tr", {}, h("th", {}, "Category"), h("th", {}, "Similarity"))),
        h("tbody", {}, ...v.scores.slice(0, 5).map((s) => h("tr", { class: s.name === v.predicted ? "ok" : undefined },
          h("td", {}, s.name), h("td", { class: "num" }, s.score.toFixed(3)))))));
      children.push(h("p", { class: "muted small" },
        `Margin ${v.margin.toFixed(3)} (uncertain below ${v.thresholds.min_margin}); irrelevant below ${v.thresholds.min_similarity}. ` +
        `ImageNet: ${v.imagenet_top.slice(0, 3).map((s) => `${s.name} ${(s.score * 100).toFixed(0)} %`).join(", ")}. ` +
        `${result.store_name} · ${result.model_version} · ${result.provider} · ${result.latency_ms.toFixed(0)} ms`));
    }
    if (error) children.push(h("p", { class: "item-error-text small", role: "alert" }, error));
    body.replaceChildren(...children.filter((c): c is HTMLElement => c !== null));
  };
  render(initial);
  return section;
}
