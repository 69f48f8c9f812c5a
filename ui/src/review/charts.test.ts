import { describe, expect, it } from "vitest";
import { tickLabels } from "./charts";

describe("tickLabels", () => {
  it("keeps the decimals a small step needs", () => {
    expect(tickLabels([0, 0.0002, 0.0004, 0.0006])).toEqual(["0.0000", "0.0002", "0.0004", "0.0006"]);
    expect(tickLabels([0, 0.25, 0.5])).toEqual(["0.00", "0.25", "0.50"]);
  });
  it("writes whole steps without decimals and with grouping", () => {
    expect(tickLabels([0, 250, 500, 1000])).toEqual(["0", "250", "500", "1,000"]);
    expect(tickLabels([0, 5, 10])).toEqual(["0", "5", "10"]);
  });
  it("copes with one tick", () => {
    expect(tickLabels([20])).toEqual(["20"]);
  });
});
