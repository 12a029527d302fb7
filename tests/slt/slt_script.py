# The SQL script the gen_*.py generators write for the ClickHouse oracle (tests/oracle): one
# table, its INSERTs (one part each), then the queries.
import os


def write_script(generator, name, comments, create, table, inserts, queries):
    """Writes `name` next to the `generator` file: a `--` line per comment, a blank line, the
    CREATE TABLE, one INSERT into `table` per list of value tuples in `inserts`, a blank line,
    then each query, each statement ending with `;`."""
    with open(os.path.join(os.path.dirname(os.path.abspath(generator)), name), 'w') as f:
        f.write("".join(f"-- {c}\n" for c in comments) + "\n")
        f.write(create + ";\n")
        for rows in inserts:
            f.write(f"INSERT INTO {table} VALUES " + ", ".join(rows) + ";\n")
        f.write("\n")
        f.write("".join(q + ";\n" for q in queries))


def chunks(rows, size):
    """`rows` in consecutive lists of `size` (the last may be shorter)."""
    return [rows[i:i + size] for i in range(0, len(rows), size)]
