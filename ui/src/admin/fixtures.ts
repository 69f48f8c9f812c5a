// Dashboards for the admin screen's tests: three hours of two backends, one of them a fallback.
import type { Dashboard } from "../bindings/Dashboard";
import type { LatencyPoint } from "../bindings/LatencyPoint";
import type { SharePoint } from "../bindings/SharePoint";
import type { UsagePoint } from "../bindings/UsagePoint";

export const WINDOW = { from: "2026-03-10T09:00:00Z", to: "2026-03-10T12:00:00Z", bucket: "hour" as const };

export function usage(bucket: string, backend: string, model: string, extra: Partial<UsagePoint> = {}): UsagePoint {
  return {
    bucket, backend, model, attempts: 10, ok: 9, errors: 1, timeouts: 0, input_tokens: 1000, output_tokens: 200,
    cached_tokens: 50, reasoning_tokens: 0, image_tokens: 0, cost_usd: 0.5, ...extra,
  };
}

export function latency(bucket: string, backend: string, model: string, extra: Partial<LatencyPoint> = {}): LatencyPoint {
  return {
    bucket, backend, model, calls: 10, p50_ms: 400, p95_ms: 900, p99_ms: 1500, streamed: 4,
    ttft_p50_ms: 120, ttft_p95_ms: 300, ttft_p99_ms: 500, ...extra,
  };
}

export function share(bucket: string, extra: Partial<SharePoint> = {}): SharePoint {
  return {
    bucket, requests: 0, decided: [], answered: [], calls: [], spillover: 0, fallback: 0, timeouts: 0,
    refused_429: 0, refused_503: 0, ...extra,
  };
}

export const DASHBOARD: Dashboard = {
  window: WINDOW,
  usage: [
    usage("2026-03-10T09:00:00Z", "openai", "gpt-4o-mini", { cost_usd: 0.25 }),
    usage("2026-03-10T11:00:00Z", "openai", "gpt-4o-mini", { cost_usd: 0.75, image_tokens: 30 }),
    usage("2026-03-10T11:00:00Z", "azure", "gpt-4o", { cost_usd: 2, input_tokens: 500, reasoning_tokens: 40 }),
  ],
  latency: [
    latency("2026-03-10T09:00:00Z", "openai", "gpt-4o-mini"),
    latency("2026-03-10T11:00:00Z", "azure", "gpt-4o", { p50_ms: 700, ttft_p50_ms: null, ttft_p95_ms: null, streamed: 0 }),
  ],
  shares: [
    // 09:00: 10 requests, all decided to openai; 12 calls: 10 openai, 2 azure (fallbacks)
    share("2026-03-10T09:00:00Z", {
      requests: 10, decided: [{ backend: "openai", n: 10 }], answered: [{ backend: "openai", n: 8 }, { backend: "azure", n: 2 }],
      calls: [{ backend: "openai", n: 10 }, { backend: "azure", n: 2 }], fallback: 2, timeouts: 1, refused_429: 3,
    }),
    // 11:00: 10 requests, 5 and 5; 8 calls
    share("2026-03-10T11:00:00Z", {
      requests: 10, decided: [{ backend: "openai", n: 5 }, { backend: "azure", n: 5 }], answered: [{ backend: "openai", n: 5 }, { backend: "azure", n: 4 }],
      calls: [{ backend: "openai", n: 4 }, { backend: "azure", n: 4 }], refused_503: 1,
    }),
  ],
  choices: { backends: ["azure", "openai"], models: ["gpt-4o", "gpt-4o-mini"], stores: ["S-1"], devices: [{ id: 7, name: "Front desk" }] },
};

export const EMPTY: Dashboard = {
  window: WINDOW, usage: [], latency: [], shares: [], choices: { backends: [], models: [], stores: [], devices: [] },
};
