#!/usr/bin/env python3
"""The SQLite floor under `lienthong bench --timers 50000`.

Stores the rows the engine stores when N deadline warnings fire (the timer claim; then, per
round of 1,024 in one transaction: the dossier update, the claimed timers' delete, the read of
the journal's previous hashes, the journal rows, the notification rows, the commit), with the
engine's own schema (engine/migrations/sqlite), pragmas and statement shapes, on one thread
with no engine around it: no JSON, no state machine, no async driver, nothing else running.
What it prints is the least time SQLite itself needs for those rows on this machine, to set
against the one-second goal for the lateness of the 99th percentile.

    python3 tests/perf/sqlite_floor.py [N]
"""
import glob, json, os, shutil, sqlite3, statistics, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
ROUND = 1_024
here = os.path.dirname(os.path.abspath(__file__))
migrations = sorted(glob.glob(os.path.join(here, "..", "..", "engine", "migrations", "sqlite", "*.sql")))
folder = tempfile.mkdtemp(prefix="lt-floor-")
path = os.path.join(folder, "floor.sqlite")
db = sqlite3.connect(path, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "wal_autocheckpoint=4000"):
    db.execute("PRAGMA " + pragma)
for m in migrations:
    db.executescript(open(m, encoding="utf-8").read())

# N dossiers waiting on a step, each with three journal rows and its two SLA timers; states
# of 700 bytes, as `bench --timers` reports them.
state = json.dumps({"steps": {"register_birth": {"status": "waiting"}}, "pad": "x" * 640})
db.execute("INSERT INTO procedures VALUES ('h', 'p', 1, '2026-01-01', '{}', 0)")
db.execute("BEGIN")
for i in range(N):
    d = f"tmr-{i}"
    db.execute("INSERT INTO dossiers (id, code, procedure_hash, status, version, state, received_at) "
               "VALUES (?, ?, 'h', 'processing', 3, ?, 0)", (d, f"G22.99.08-261201-{i:06}", state))
    for v in (1, 2, 3):
        db.execute("INSERT INTO journal (dossier_id, version, at, node, event, status, hash) "
                   "VALUES (?, ?, 0, 'node-1', '{\"type\":\"step_dispatched\"}', 'processing', ?)", (d, v, "f" * 64))
    db.execute("INSERT INTO timers (dossier_id, kind, step, due_at) VALUES (?, 'warning', 'register_birth', 1000)", (d,))
    db.execute("INSERT INTO timers (dossier_id, kind, step, due_at) VALUES (?, 'breach', 'register_birth', 99999999999)", (d,))
db.execute("COMMIT")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

CLAIM = ("UPDATE timers SET lease_owner = ?, lease_until = ?, epoch = epoch + 1 "
         "WHERE (dossier_id, kind, step) IN (SELECT dossier_id, kind, step FROM timers "
         "WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?) "
         "RETURNING dossier_id, kind, step, due_at, epoch")
event = json.dumps({"type": "timer_fired", "kind": "warning", "step": "register_birth"})
effect = json.dumps({"type": "notify", "audience": "agency", "template": "deadline_warning",
                     "step": "register_birth", "data": {"code": "G22.99.08-261201-000000"}})


def values(width, rows):
    return "(" + "), (".join([", ".join(["?"] * width)] * rows) + ")"


spent = {}
def timed(name, f):
    t = time.perf_counter()
    r = f()
    spent.setdefault(name, []).append((time.perf_counter() - t) * 1e3)
    return r


while True:
    def claim():
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(CLAIM, ("node-1", 10**12, 2000, 2000, ROUND)).fetchall()
        db.execute("COMMIT")
        return rows
    claimed = timed("claim", claim)
    if not claimed:
        break
    ids = [r[0] for r in claimed]
    n = len(ids)
    db.execute("BEGIN IMMEDIATE")
    args = [a for d in ids for a in (d, state, 4, 3)]
    timed("dossier update", lambda: db.execute(
        f"WITH v (id, state, version, expected) AS (VALUES {values(4, n)}) UPDATE dossiers SET state = v.state, "
        "version = v.version FROM v WHERE dossiers.id = v.id AND dossiers.version = v.expected", args))
    args = [a for r in claimed for a in (r[0], r[1], r[2], r[4])]
    timed("timer delete", lambda: db.execute(
        f"WITH v (d, k, s, e) AS (VALUES {values(4, n)}) DELETE FROM timers "
        "WHERE (dossier_id, kind, step, epoch) IN (SELECT d, k, s, e FROM v)", args))
    args = [a for d in ids for a in (d, 3)]
    timed("previous hashes", lambda: db.execute(
        f"WITH v (d, n) AS (VALUES {values(2, n)}) SELECT j.dossier_id, j.version, j.hash FROM journal j "
        "JOIN v ON j.dossier_id = v.d AND j.version = v.n", args).fetchall())
    args = [a for d in ids for a in (d, 4, 2000, "node-1", event, "processing", "e" * 64)]
    timed("journal insert", lambda: db.execute(
        f"INSERT INTO journal (dossier_id, version, at, node, event, status, hash) VALUES {values(7, n)}", args))
    args = [a for d in ids for a in (d, "notify", effect, 2000, 2000)]
    timed("outbox insert", lambda: db.execute(
        f"INSERT INTO outbox (dossier_id, kind, effect, created_at, available_at) VALUES {values(5, n)}", args))
    timed("commit", lambda: db.execute("COMMIT"))
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the engine's background checkpoint, untimed

rounds = len(spent["dossier update"])
print(f"SQLite {sqlite3.sqlite_version}, {N} firings in {rounds} rounds of up to {ROUND}")
total = 0.0
for name, ms in spent.items():
    total += sum(ms)
    print(f"  {name:16} median {statistics.median(ms):6.2f} ms per round, {sum(ms):7.0f} ms in all")
print(f"  total {total:.0f} ms; without the claim {total - sum(spent['claim']):.0f} ms (the goal: p99 lateness <= 1000 ms)")
db.close()
shutil.rmtree(folder)
