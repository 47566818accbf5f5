#!/usr/bin/env python3
"""Reads every table of a maaltal lake with DuckDB and with Polars (tools nobody here
wrote) and prints {table: [duckdb rows, polars rows]} as JSON. Tables are found as
maaltal finds them: raw/<source>/<table>, marts/<mart>, ledger/<table> (as
ledger_<table>); folders starting with '.' or '_' are not the lake's. Exits non-zero,
naming the table, if either reader fails.
"""

import json
import os
import sys

import duckdb
import polars as pl


def tables(lake):
    def subdirs(d):
        if not os.path.isdir(d):
            return []
        return sorted(
            os.path.join(d, n)
            for n in os.listdir(d)
            if not n.startswith((".", "_")) and os.path.isdir(os.path.join(d, n))
        )

    def has_parquet(d):
        return any(f.endswith(".parquet") for _, _, fs in os.walk(d) for f in fs)

    out = {}
    for source in subdirs(os.path.join(lake, "raw")):
        for table in subdirs(source):
            if has_parquet(table):
                out[os.path.basename(source) + "_" + os.path.basename(table)] = table
    for root, prefix in (("marts", ""), ("ledger", "ledger_")):
        for table in subdirs(os.path.join(lake, root)):
            if has_parquet(table):
                out[prefix + os.path.basename(table)] = table
    return out


def main():
    lake = sys.argv[1]
    counts = {}
    for name, folder in tables(lake).items():
        glob = os.path.join(folder, "**", "*.parquet")
        try:
            duck = duckdb.sql(
                f"select count(*) from read_parquet('{glob}', hive_partitioning=true)"
            ).fetchone()[0]
            polars = (
                pl.scan_parquet(glob, hive_partitioning=True).select(pl.len()).collect().item()
            )
        except Exception as e:  # noqa: BLE001: the table is named, the error kept
            print(f"{name}: {folder}: {e}", file=sys.stderr)
            sys.exit(1)
        counts[name] = [duck, polars]
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
