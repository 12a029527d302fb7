"""Turns a PostgreSQL server log (log_statement = 'all', log_line_prefix = '%a|%p| ') into
corpus files: one file per client, each statement the client sent that reads rows (SELECT or
WITH) as one entry, with the parameters it was executed with.

Usage: harvest.py LOG OUTDIR. Clients are told apart by application_name (psql,
psycopg, asyncpg, sqlalchemy, pgjdbc); statements repeated within a client are kept once.
"""

import json
import re
import sys

PREFIX = re.compile(r"^(?P<app>[^|]*)\|(?P<pid>\d+)\| (?P<level>[A-Z]+):  (?P<msg>.*)$")
STATEMENT = re.compile(r"^(statement|execute [^:]+): (?P<sql>.*)$", re.S)
PARAMS = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')")


def client(app, pid, pids):
    """The client a log line comes from: its application_name, or the first name its backend used."""
    if app.startswith("granary-"):
        pids[pid] = app[len("granary-"):]
    elif app == "PostgreSQL JDBC Driver":
        pids[pid] = "pgjdbc"
    return pids.get(pid)


def main(log, outdir):
    entries, pids, last = {}, {}, None
    for line in open(log, encoding="utf-8"):
        line = line.rstrip("\n")
        m = PREFIX.match(line)
        if not m:
            if last is not None and line.startswith("\t"):
                last["sql"] += "\n" + line[1:]
            continue
        name = client(m["app"], m["pid"], pids)
        msg = m["msg"]
        if m["level"] == "DETAIL" and msg.startswith("parameters: ") and last is not None:
            last["params"] = [None if g[1] == "NULL" else g[2].replace("''", "'") for g in PARAMS.findall(msg)]
            continue
        s = STATEMENT.match(msg) if m["level"] == "LOG" else None
        last = None
        if s and name:
            last = {"sql": s["sql"], "params": []}
            entries.setdefault(name, []).append(last)
    for name, items in entries.items():
        seen, out = set(), []
        for item in items:
            sql = item["sql"].strip().rstrip(";").strip()
            if not re.match(r"(?is)^\s*(select|with)\b", sql):
                continue
            key = (sql, tuple(item["params"]))
            if key in seen:
                continue
            seen.add(key)
            head = "-- query"
            if item["params"]:
                head += "\n-- params: " + json.dumps(item["params"])
            out.append(f"{head}\n{sql};\n")
        with open(f"{outdir}/{name}.sql", "w", encoding="utf-8") as f:
            f.write(f"-- Statements {name} sent to PostgreSQL 15, harvested by tests/clients/harvest.sh.\n\n")
            f.write("\n".join(out))


main(sys.argv[1], sys.argv[2])
