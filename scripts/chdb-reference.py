#!/usr/bin/env python3
"""The outside reference for the ingest engine (docs/BENCHMARKS.md, "chdb reference"): embedded
ClickHouse (PyPI `chdb`) on the same rows as `tracewire-query-bench`, with the skip indexes a
ClickHouse user would add for our lookups (bloom filters on trace_id and user_id, an ngram bloom
on the lowered message).

It reports, on one process (chdb runs inside it; CPU time counts all its threads):
  - rows stored per CPU-second, JSON parsing included, in inserts of 20,000 rows and of 100
    rows (the collector's batch size);
  - bytes on disk per row after the load;
  - p50/p95 wall time of the query bench's query kinds (page of 50 and its total).

Run through scripts/chdb-reference.sh, which makes the venv and dumps the rows.
"""

import json
import os
import random
import statistics
import sys
import tempfile
import time

from chdb import session

LARGE = 20_000
SMALL = 100
SMALL_ROWS = 20_000
RUNS = 30
WORDS = [
    "checkout", "payment", "timeout", "cache", "login", "search",
    "inventory", "render", "retry", "session", "upload", "webhook",
]  # the query bench's

SCHEMA = """
CREATE TABLE {name} (
    id UUID,
    timestamp Int64,
    level LowCardinality(String),
    source LowCardinality(String),
    message String,
    module LowCardinality(String),
    function LowCardinality(String),
    trace_id Nullable(String),
    user_id String,
    request_method LowCardinality(String),
    request_path LowCardinality(String),
    response_status UInt16,
    duration_ms Float64,
    extra_data String,
    INDEX trace_bf trace_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX text_ngram lower(message) TYPE ngrambf_v1(3, 8192, 3, 0) GRANULARITY 1
) ENGINE = MergeTree ORDER BY (timestamp, id)
"""


def insert(sess, table, lines):
    """One INSERT of JSON lines (the parse is part of what is measured)."""
    sess.query(f"INSERT INTO {table} FORMAT JSONEachRow\n" + "\n".join(lines))


def load(sess, table, lines, size):
    """Inserts `lines` in inserts of `size`; returns (CPU seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(lines), size):
        insert(sess, table, lines[i : i + size])
    return time.process_time() - cpu, time.perf_counter() - wall


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def scalar(sess, sql):
    return sess.query(sql, "CSV").bytes().decode().strip()


def timed(sess, make_sql):
    """p50/p95 ms of RUNS runs of the page and of page + total."""
    page, both = [], []
    for i in range(RUNS):
        page_sql, count_sql = make_sql(i)
        t = time.perf_counter()
        sess.query(page_sql, "CSV")
        page.append((time.perf_counter() - t) * 1000)
        sess.query(count_sql, "CSV")
        both.append((time.perf_counter() - t) * 1000)

    def p(values, q):
        values = sorted(values)
        return values[max(0, int(len(values) * q + 0.999999) - 1)]

    return p(page, 0.5), p(page, 0.95), p(both, 0.5), p(both, 0.95)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chdb-reference.py ROWS.jsonl")
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    data = tempfile.mkdtemp(prefix="tracewire-chdb-")
    sess = session.Session(data)
    sess.query("CREATE DATABASE IF NOT EXISTS bench")
    sess.query("USE bench")
    sess.query(SCHEMA.format(name="logs"))
    sess.query(SCHEMA.format(name="small"))

    cpu, wall = load(sess, "logs", lines, LARGE)
    print(f"rows: {len(lines)}")
    print(
        f"inserts of {LARGE:,}: {len(lines) / cpu:,.0f} rows per CPU-second, "
        f"{len(lines) / wall:,.0f} rows/s wall"
    )
    small = lines[:SMALL_ROWS]
    cpu, wall = load(sess, "small", small, SMALL)
    print(
        f"inserts of {SMALL} ({len(small):,} rows): {len(small) / cpu:,.0f} rows per "
        f"CPU-second, {len(small) / wall:,.0f} rows/s wall"
    )
    stored = dir_bytes(data)
    print(
        f"on disk after the loads: {stored / 1e6:.1f} MB, "
        f"{stored / (len(lines) + len(small)):.0f} B per row"
    )

    newest = int(scalar(sess, "SELECT max(timestamp) FROM logs"))
    oldest = int(scalar(sess, "SELECT min(timestamp) FROM logs"))
    traces = [json.loads(l)["trace_id"] for l in random.Random(3).sample(lines, RUNS * 2)]
    traces = [t for t in traces if t][:RUNS]
    rng = random.Random(11)
    six_h, day = 6 * 3_600_000_000, 86_400_000_000
    cols = "id, timestamp, level, source, message, trace_id, user_id"

    def page(where):
        w = f" WHERE {where}" if where else ""
        return (
            f"SELECT {cols} FROM logs{w} ORDER BY timestamp DESC, id DESC LIMIT 51",
            f"SELECT count() FROM logs{w}",
        )

    def window(_):
        start = oldest + rng.randrange(max(1, newest - oldest - six_h))
        return page(f"level = 'ERROR' AND timestamp BETWEEN {start} AND {start + six_h}")

    kinds = [
        ("latest page", lambda _: page("")),
        ("level=ERROR, random 6 h window", window),
        ("one trace_id", lambda i: page(f"trace_id = '{traces[i % len(traces)]}'")),
        ("one user_id", lambda _: page(f"user_id = 'user-{rng.randrange(5000)}'")),
        (
            "q=<word> (1 in 12 logs), last 24 h",
            lambda i: page(
                f"lower(message) LIKE '%{WORDS[i % len(WORDS)]}%' AND timestamp >= {newest - day}"
            ),
        ),
        (
            "q=<word> (1 in 12 logs), all time",
            lambda i: page(f"lower(message) LIKE '%{WORDS[i % len(WORDS)]}%'"),
        ),
        (
            "q=order <n> (1 in 100,000 logs), all time",
            lambda _: page(f"lower(message) LIKE '%order {10_000 + rng.randrange(90_000)}%'"),
        ),
    ]
    print("| query | page p50 ms | page p95 ms | page+total p50 ms | page+total p95 ms |")
    print("|---|---|---|---|---|")
    for name, make in kinds:
        p50, p95, t50, t95 = timed(sess, make)
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {t50:.2f} | {t95:.2f} |")
    sess.close()


if __name__ == "__main__":
    main()
