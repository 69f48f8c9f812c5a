"""Fills a station database with open review tasks, for measuring the workbench at scale.

usage: python3 seed_review_queue.py STATION_DB COUNT

The app must have created the database (migrations applied) and imported at least one item,
which every task points at. Tasks are invoices and compliance results with realistic model
outputs, confidences spread over 0-1 and creation times over the last week.
"""
import json
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone


def field(value, confidence, checks=()):
    return {
        "value": value,
        "printed": value if isinstance(value, str) else None,
        "confidence": confidence,
        "checks": [{"name": c, "passed": False, "detail": "seeded"} for c in checks],
        "evidence": [{"page": 1, "text": str(value), "polygon": [[10, 10], [200, 10], [200, 30], [10, 30]]}],
    }


def invoice(rng):
    c = [round(rng.random(), 3) for _ in range(5)]
    return {
        "number": field(f"INV-{rng.randrange(10**6)}", c[0]),
        "date": field({"iso": "2026-11-0%d" % rng.randrange(1, 10), "ambiguous": False, "order": "dmy"}, c[1]),
        "seller": field("SUPER STORES SDN BHD", c[2]),
        "subtotal": field("%.2f" % (rng.random() * 1000), c[3]),
        "total": field("%.2f" % (rng.random() * 1200), c[4], ["totals_add_up"] if c[4] < 0.3 else ()),
        "line_items": [],
        "checks": [],
    }, min(c)


def compliance(rng):
    q, k = round(rng.random(), 3), round(rng.random(), 3)
    return {
        "schema_version": 1,
        "valid": q > 0.5,
        "invalid_reasons": [] if q > 0.5 else ["blur"],
        "category": {"expected": None, "predicted": "Fruit", "verdict": "predicted", "similarity": 0.6, "margin": k / 10},
        "quality": {},
        "rules": [
            {"id": "quality", "passed": q > 0.5, "confidence": q, "evidence": "blur effect 0.31"},
            {"id": "category", "passed": True, "confidence": k, "evidence": "Fruit, margin %.3f" % (k / 10)},
        ],
        "pass_count": 1 + int(q > 0.5),
        "total_rules": 2,
        "suggestions": [],
        "payload": {},
    }, min(q, k)


def main():
    db, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(7)
    conn = sqlite3.connect(db)
    item = conn.execute("SELECT id FROM items ORDER BY id LIMIT 1").fetchone()
    if item is None:
        sys.exit("the database has no item to attach tasks to")
    now = datetime.now(timezone.utc)
    began = time.perf_counter()
    rows = []
    for i in range(count):
        kind = "compliance" if i % 4 == 0 else "invoice"
        output, confidence = compliance(rng) if kind == "compliance" else invoice(rng)
        created = now - timedelta(seconds=rng.randrange(7 * 86400))
        rows.append((
            item[0], kind, "default", confidence, json.dumps(["low_confidence"]),
            created.isoformat().replace("+00:00", "Z"),
            (created + timedelta(hours=24)).isoformat().replace("+00:00", "Z"),
            json.dumps(output), json.dumps({"engine": "seed", "model": "seed", "prompt": None, "backend": "seed"}),
        ))
    with conn:
        conn.executemany(
            "INSERT INTO review_tasks (item_id, kind, store_id, confidence, reasons, created_at, due_at, model_output, versions) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    print(f"seeded {count} open review tasks in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
