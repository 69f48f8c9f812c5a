import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Field } from "../bindings/Field";
import type { Invoice } from "../bindings/Invoice";
import type { LegalDocument } from "../bindings/LegalDocument";
import { fieldState, InvoiceFields, LegalFields } from "./FieldsPanel";

function field<T>(value: T | null, printed: string | null, confidence = 1, failed: string[] = []): Field<T> {
  return {
    value, printed, confidence,
    checks: failed.map((name) => ({ name, passed: false, detail: `${name} failed` })),
    evidence: printed === null ? [] : [{ page: 1, line: 3, polygon: [[10, 20], [200, 20], [200, 50], [10, 50]], text: printed }],
  };
}

const none = <T,>(): Field<T> => field<T>(null, null, 0);

const invoice: Invoice = {
  schema: "invoice/1",
  number: field("INV-1", "INV-1"),
  date: field({ iso: "2024-03-05", ambiguous: true, order: "dmy" }, "05/03/2024", 0.5, ["date_order_unambiguous"]),
  seller: field("Acme Pvt Ltd", "Acme Pvt Ltd", 0.8),
  seller_address: none(),
  seller_tax_id: field("29AAGCB7383J1Z4", "29AAGCB7383J1Z4", 0.8),
  buyer: field("Globex", "Globex", 0.62),
  buyer_tax_id: none(),
  currency: field("INR", "INR", 0.8),
  line_items: [{
    description: field("Bolts", "Bolts"), hsn_sac: field("7318", "7318"), quantity: field("10", "10"),
    unit_price: field("12.50", "12.50"), amount: field("125.00", "125.00"),
  }],
  subtotal: field("125.00", "125.00", 0.5, ["line_items_sum"]),
  taxes: [{ kind: "CGST", rate_percent: "9", amount: field("11.25", "11.25") }],
  rounding: none(),
  total: field("147.50", "147.50"),
  checks: [
    { name: "total_present", passed: true, detail: "a total was found" },
    { name: "line_items_sum", passed: false, detail: "Σ line amounts 125.00, subtotal 135.00" },
  ],
  confidence: 0.5,
};

describe("fields", () => {
  it("marks a field by what needs attention", () => {
    expect(fieldState(invoice.number)).toBe("ok");
    expect(fieldState(invoice.buyer)).toBe("low");
    expect(fieldState(invoice.date)).toBe("failed");
    expect(fieldState(invoice.buyer_tax_id)).toBe("missing");
  });

  it("shows each field with its confidence, failed checks and evidence", () => {
    const root = document.createElement("div");
    render(<InvoiceFields inv={invoice} />, root);
    const row = (name: string) => root.querySelector<HTMLElement>(`[data-field="${name}"]`);
    expect(row("number")?.textContent).toContain("INV-1");
    expect(row("number")?.textContent).toContain("100 %");
    expect(row("date")?.textContent).toContain("2024-03-05 (day/month?)");
    expect(row("date")?.querySelector("[data-check='date_order_unambiguous']")).not.toBeNull();
    expect(row("date")?.dataset.state).toBe("failed");
    expect(row("subtotal")?.dataset.state).toBe("failed");
    expect(row("buyer_tax_id")?.textContent).toContain("—");
    const evidence = JSON.parse(row("total")?.dataset.evidence ?? "[]");
    expect(evidence[0].polygon[2]).toEqual([200, 50]);
    expect(row("tax_cgst")?.textContent).toContain("CGST 9 %");
    expect(root.querySelectorAll("[data-item]")).toHaveLength(1);
    const failed = root.querySelector(".doc-checks [data-check='line_items_sum']");
    expect(failed?.classList.contains("bad")).toBe(true);
    expect(failed?.textContent).toContain("subtotal 135.00");
  });

  it("lists a judgment's parties, outline and summary with their pages", () => {
    const doc: LegalDocument = {
      schema: "legal/1", page_count: 4,
      case_number: field("W.P. No. 1 of 2022", "W.P. No. 1 of 2022"),
      court: field("HIGH COURT OF KARNATAKA", "IN THE HIGH COURT OF KARNATAKA"),
      parties: [{ role: "petitioner", name: field("RAMESH", "RAMESH") }],
      judges: [field("R. VENKATESH", "R. VENKATESH")],
      filed: field({ iso: "2022-02-03", ambiguous: false, order: "dmy" }, "03.02.2022"),
      heard: none(), decided: none(),
      statutes: [{ text: "Arms Act, 1959", count: 2, evidence: [] }],
      cited_cases: [],
      sections: [{ heading: "CONCLUSION", page: 4, paragraphs: [] }],
      summary: [{ text: "The petition is accordingly allowed.", page: 4, score: 1 }],
    };
    const root = document.createElement("div");
    render(<LegalFields doc={doc} />, root);
    expect(root.querySelector("[data-field='court']")?.textContent).toContain("HIGH COURT OF KARNATAKA");
    expect(root.querySelector("[data-field='party_0']")?.textContent).toContain("Petitioner");
    expect(root.querySelector("[data-field='filed']")?.textContent).toContain("2022-02-03");
    expect(root.querySelector(".outline li")?.getAttribute("data-page")).toBe("4");
    expect(root.querySelector(".summary li")?.textContent).toContain("accordingly allowed");
    expect(root.querySelector(".citations li")?.textContent).toContain("×2");
  });
});
