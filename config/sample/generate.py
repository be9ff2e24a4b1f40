#!/usr/bin/env python3
"""Regenerates the demo sample from the shippable labeled sets in ../shared/data.

Deterministic (fixed seed). Texts are used as published; ids, authors, dates,
engagement and threads are synthetic. Run from the repository root:
    python3 config/sample/generate.py ../shared/data
"""
import csv, json, random, sys, datetime, os

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
out = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261101)

with open(os.path.join(data, "sentiment/tweeteval_val.csv"), newline="") as f:
    english = [r["text"] for r in csv.DictReader(f)]
with open(os.path.join(data, "multilingual/dev.csv"), newline="") as f:
    multi = [(r["lang"], r["text"]) for r in csv.DictReader(f) if r["lang"] in ("es", "fr", "de", "pt", "it")]

start = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)

def posts(prefix, n_en, n_multi):
    texts = rng.sample(english, n_en) + [t for _, t in rng.sample(multi, n_multi)]
    rng.shuffle(texts)
    rows = []
    for i, text in enumerate(texts):
        created = start + datetime.timedelta(seconds=rng.randrange(7 * 24 * 3600))
        row = {
            "id": f"{prefix}-{i:05d}",
            "text": " ".join(text.split()),
            "author_handle": f"user{rng.randrange(1, 400)}",
            "followers": int(rng.paretovariate(1.2) * 50),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "likes": int(rng.expovariate(0.3)),
            "reposts": int(rng.expovariate(0.8)),
            "replies": int(rng.expovariate(1.0)),
        }
        if rows and rng.random() < 0.1:
            parent = rng.choice(rows)
            row["in_reply_to"] = parent["id"]
            row["thread_id"] = parent.get("thread_id") or parent["id"]
        rows.append(row)
    rows.sort(key=lambda r: r["created_at"])
    return rows

acme = posts("acme", 450, 150)
with open(os.path.join(out, "acme-air.ndjson"), "w") as f:
    for i, row in enumerate(acme):
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        if i == 300:
            # One deliberately malformed line: the demo shows it dead-lettered.
            f.write('{"id": "acme-broken", "text": "this line is cut off\n')

stream = posts("stream", 300, 100)
fields = ["id", "text", "author_handle", "followers", "created_at", "likes", "reposts", "replies", "in_reply_to", "thread_id"]
with open(os.path.join(out, "streamly.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    for row in stream:
        w.writerow(row)
print(f"acme-air: {len(acme)} posts (+1 malformed), streamly: {len(stream)} posts")
