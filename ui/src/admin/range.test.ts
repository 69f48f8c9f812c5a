import { describe, expect, it } from "vitest";
import {
  NO_FILTERS, ageText, autoBucket, buildQuery, customRange, emptyText, localInputToRfc3339, offlineText, rangeBounds,
  rfc3339ToLocalInput, toRfc3339, utcText, windowText,
} from "./range";

const NOW = Date.parse("2026-03-10T12:34:56.789Z");
const HOUR = 3_600_000;

describe("the admin range", () => {
  it("writes RFC 3339 in UTC, to the second", () => {
    expect(toRfc3339(NOW)).toBe("2026-03-10T12:34:56Z");
  });

  it("reads a datetime-local value as the display's time and gives it in UTC", () => {
    // the expected instant is built from the same local fields, whatever the time zone
    expect(localInputToRfc3339("2026-03-01T10:30")).toBe(toRfc3339(new Date(2026, 2, 1, 10, 30).getTime()));
    expect(localInputToRfc3339("2026-03-01T10:30:15")).toBe(toRfc3339(new Date(2026, 2, 1, 10, 30, 15).getTime()));
    expect(localInputToRfc3339("2026-03-01T10:30")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    for (const bad of ["", "2026-03-01", "2026-02-30T10:00", "2026-03-01T25:00", "yesterday"]) {
      expect(localInputToRfc3339(bad)).toBeNull();
    }
  });

  it("round-trips through the inputs' format", () => {
    const iso = localInputToRfc3339("2026-12-31T23:59")!;
    expect(rfc3339ToLocalInput(iso)).toBe("2026-12-31T23:59");
    expect(rfc3339ToLocalInput("not a time")).toBe("");
  });

  it("takes a custom range only when it is one", () => {
    expect(customRange("", "2026-03-01T10:00")).toEqual({ error: "Give both a start and an end." });
    expect(customRange("2026-03-02T10:00", "2026-03-01T10:00")).toEqual({ error: "The start must be before the end." });
    expect(customRange("2026-03-01T10:00", "2026-03-01T10:00")).toEqual({ error: "The start must be before the end." });
    const ok = customRange("2026-03-01T10:00", "2026-03-02T10:00");
    expect(ok).toEqual({ from: localInputToRfc3339("2026-03-01T10:00"), to: localInputToRfc3339("2026-03-02T10:00") });
  });

  it("ends a preset now and keeps a custom range as given", () => {
    expect(rangeBounds({ preset: "24h" }, NOW)).toEqual({ from: "2026-03-09T12:34:56Z", to: "2026-03-10T12:34:56Z" });
    expect(rangeBounds({ preset: "1h" }, NOW).from).toBe("2026-03-10T11:34:56Z");
    expect(rangeBounds({ preset: "30d" }, NOW).from).toBe("2026-02-08T12:34:56Z");
    expect(rangeBounds({ from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }, NOW))
      .toEqual({ from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" });
  });

  it("buckets per day over 3 days, unless chosen", () => {
    expect(autoBucket(0, 3 * 24 * HOUR)).toBe("hour");
    expect(autoBucket(0, 3 * 24 * HOUR + 1)).toBe("day");
    expect(buildQuery({ preset: "24h" }, "auto", NO_FILTERS, NOW).bucket).toBe("hour");
    expect(buildQuery({ preset: "7d" }, "auto", NO_FILTERS, NOW).bucket).toBe("day");
    expect(buildQuery({ preset: "7d" }, "hour", NO_FILTERS, NOW).bucket).toBe("hour");
    expect(buildQuery({ preset: "1h" }, "day", { ...NO_FILTERS, backend: "openai", device: 7 }, NOW)).toEqual({
      from: "2026-03-10T11:34:56Z", to: "2026-03-10T12:34:56Z", bucket: "day",
      backend: "openai", model: null, store: null, device: 7,
    });
  });

  it("states the exact window and an empty one", () => {
    const w = { from: "2026-03-09T12:00:00Z", to: "2026-03-10T13:00:00Z", bucket: "hour" as const };
    expect(utcText("2026-03-09T12:00:00Z")).toBe("2026-03-09 12:00");
    expect(windowText(w)).toBe("2026-03-09 12:00 – 2026-03-10 13:00 UTC, per hour");
    expect(windowText({ ...w, bucket: "day" })).toBe("2026-03-09 12:00 – 2026-03-10 13:00 UTC, per day");
    expect(emptyText(w)).toBe("No calls between 2026-03-09 12:00 and 2026-03-10 13:00 UTC.");
  });

  it("says how old a snapshot is", () => {
    const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
    expect(ageText(at(20_000), NOW)).toBe("less than a minute");
    expect(ageText(at(-5_000), NOW)).toBe("less than a minute");
    expect(ageText(at(60_000), NOW)).toBe("1 minute");
    expect(ageText(at(59 * 60_000), NOW)).toBe("59 minutes");
    expect(ageText(at(HOUR), NOW)).toBe("1 hour");
    expect(ageText(at(47 * HOUR), NOW)).toBe("47 hours");
    expect(ageText(at(72 * HOUR), NOW)).toBe("3 days");
    expect(ageText("never", NOW)).toBe("an unknown time");
  });

  it("writes the offline banner only for a snapshot", () => {
    const fetched = new Date(NOW - 5 * 60_000).toISOString();
    expect(offlineText({ fetched_at: fetched, fresh: true, offline_reason: null }, NOW)).toBeNull();
    expect(offlineText({ fetched_at: fetched, fresh: false, offline_reason: "connection refused" }, NOW))
      .toBe(`Offline — showing the snapshot synced 5 minutes ago (${utcText(fetched)} UTC): connection refused`);
  });
});
