"""Database baselines for bench/kernel.py: PostGIS (throwaway local cluster) and DuckDB spatial.

Both answer the same question as gapmap: the best ``down_mbps`` per address over every
coverage polygon that *intersects* the address point (``ST_Intersects``: edges count, the
same covered_by semantics as gapmap). Each engine runs on one core (PostgreSQL without
parallel workers, DuckDB with ``threads = 1``); loading and indexing are timed apart from
the query. ``run_query`` returns the best value per address (NaN where none).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
QUERY = (
    "SELECT a.id, max(c.down) AS best FROM cov c JOIN addr a "
    "ON ST_Intersects(c.geom, a.geom) GROUP BY a.id"
)


def _best_from(ids: np.ndarray, best: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[ids.astype(np.int64)] = best.astype(np.float64)
    return out


class PostGIS:
    """A PostgreSQL 15 + PostGIS cluster in a temporary directory on a loopback port.

    ``PostGIS.start()`` returns the running instance or a string saying why it could not
    (not root, packages missing and not installable, ...). Always ``stop()`` it.
    """

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.conn = None

    @classmethod
    def start(cls) -> PostGIS | str:
        if os.geteuid() != 0:
            return "PostGIS skipped: needs root (initdb/pg_ctl run as the postgres user)"
        if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
            if shutil.which("apt-get") is None:
                return "PostGIS skipped: PostgreSQL 15/PostGIS not installed and no apt-get"
            print("installing postgresql postgresql-15-postgis-3 with apt-get ...", flush=True)
            done = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "postgresql", "postgresql-15-postgis-3"],
                capture_output=True,
                text=True,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            if done.returncode != 0 or not POSTGIS_CONTROL.exists():
                return f"PostGIS skipped: apt-get install failed ({done.stderr.strip()[-200:]})"
        try:
            import psycopg  # checked here so the skip message is clear
        except ImportError:
            return "PostGIS skipped: pip install 'psycopg[binary]'"
        root = Path(tempfile.mkdtemp(prefix="gapmap-pg-"))
        shutil.chown(root, "postgres", "postgres")
        with socket.socket() as s:  # a free loopback port
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self = cls(root, port)
        try:
            self._as_postgres(PG_BIN / "initdb", "-D", root / "data", "-U", "postgres",
                              "--auth=trust", "--no-sync", "-E", "UTF8")  # fmt: skip
            opts = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB "
                "-c work_mem=512MB -c maintenance_work_mem=1GB -c jit=off "
                "-c max_parallel_workers_per_gather=0"
            )
            self._as_postgres(PG_BIN / "pg_ctl", "-D", root / "data", "-o", opts, "-w",
                              "-l", root / "log", "start")  # fmt: skip
            import psycopg  # checked here so the skip message is clear

            self.conn = psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
            )
            self.conn.execute("CREATE EXTENSION postgis")
        except Exception as exc:
            self.stop()
            return f"PostGIS skipped: could not start a local cluster ({exc})"
        return self

    def _as_postgres(self, *cmd: object) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True
        )

    def version(self) -> str:
        row = self.conn.execute("SELECT postgis_full_version()").fetchone()
        return " ".join(row[0].split()[:2]) if row else "?"

    def load(self, x: np.ndarray, y: np.ndarray, polys: np.ndarray, down: np.ndarray) -> float:
        """Load and index both tables; returns seconds."""
        t = time.perf_counter()
        c = self.conn
        c.execute("DROP TABLE IF EXISTS addr, cov, addr_raw, cov_raw")
        c.execute("CREATE UNLOGGED TABLE addr_raw (id int, x float8, y float8)")
        buf = io.StringIO()
        pd.DataFrame({"id": np.arange(len(x)), "x": x, "y": y}).to_csv(
            buf, sep="\t", header=False, index=False, float_format="%.17g"
        )
        with c.cursor().copy("COPY addr_raw FROM STDIN") as cp:
            cp.write(buf.getvalue())
        c.execute("CREATE UNLOGGED TABLE cov_raw (id int, down float8, wkb text)")
        buf = io.StringIO()
        pd.DataFrame(
            {"id": np.arange(len(polys)), "down": down, "wkb": shapely.to_wkb(polys, hex=True)}
        ).to_csv(buf, sep="\t", header=False, index=False)
        with c.cursor().copy("COPY cov_raw FROM STDIN") as cp:
            cp.write(buf.getvalue())
        c.execute(
            "CREATE UNLOGGED TABLE addr AS SELECT id, "
            "ST_SetSRID(ST_MakePoint(x, y), 25832)::geometry(Point, 25832) AS geom FROM addr_raw"
        )
        c.execute(
            "CREATE UNLOGGED TABLE cov AS SELECT id, down, "
            "ST_GeomFromWKB(decode(wkb, 'hex'), 25832) AS geom FROM cov_raw"
        )
        c.execute("DROP TABLE addr_raw, cov_raw")
        c.execute("CREATE INDEX ON addr USING gist (geom)")
        c.execute("CREATE INDEX ON cov USING gist (geom)")
        c.execute("ANALYZE addr")
        c.execute("ANALYZE cov")
        return time.perf_counter() - t

    def run_query(self, n: int) -> tuple[float, np.ndarray]:
        c = self.conn
        c.execute("DROP TABLE IF EXISTS res")
        t = time.perf_counter()
        c.execute(f"CREATE UNLOGGED TABLE res AS {QUERY}")
        elapsed = time.perf_counter() - t
        buf = io.BytesIO()
        with c.cursor().copy("COPY res TO STDOUT") as cp:
            for chunk in cp:
                buf.write(chunk)
        buf.seek(0)
        table = pd.read_csv(buf, sep="\t", header=None, names=["id", "best"])
        return elapsed, _best_from(table["id"].to_numpy(), table["best"].to_numpy(), n)

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if (self.root / "data" / "postmaster.pid").exists():
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                 str(self.root / "data"), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


class DuckDB:
    """DuckDB with the spatial extension from the ``duckdb_extension_spatial`` wheel."""

    def __init__(self, con: object) -> None:
        self.con = con

    @classmethod
    def start(cls) -> DuckDB | str:
        try:
            import duckdb
            import duckdb_extensions
        except ImportError:
            return (
                "DuckDB skipped: pip install duckdb duckdb_extensions duckdb_extension_spatial "
                "(same version as duckdb)"
            )
        con = duckdb.connect()
        try:
            duckdb_extensions.import_extension("spatial", con=con)
            con.execute("LOAD spatial")
        except Exception as exc:
            return f"DuckDB skipped: spatial extension does not load ({exc})"
        con.execute("SET threads = 1")
        return cls(con)

    def version(self) -> str:
        import duckdb

        return duckdb.__version__

    def load(self, x: np.ndarray, y: np.ndarray, polys: np.ndarray, down: np.ndarray) -> float:
        t = time.perf_counter()
        con = self.con
        con.register(
            "addr_df", pd.DataFrame({"id": np.arange(len(x), dtype=np.int32), "x": x, "y": y})
        )
        con.register(
            "cov_df",
            pd.DataFrame(
                {"id": np.arange(len(polys), dtype=np.int32), "down": down,
                 "wkb": shapely.to_wkb(polys)}
            ),
        )  # fmt: skip
        con.execute(
            "CREATE OR REPLACE TABLE addr AS SELECT id, ST_Point(x, y) AS geom FROM addr_df"
        )
        con.execute(
            "CREATE OR REPLACE TABLE cov AS SELECT id, down, ST_GeomFromWKB(wkb) AS geom FROM cov_df"
        )
        con.unregister("addr_df")
        con.unregister("cov_df")
        return time.perf_counter() - t

    def run_query(self, n: int) -> tuple[float, np.ndarray]:
        t = time.perf_counter()
        self.con.execute(f"CREATE OR REPLACE TABLE res AS {QUERY}")
        elapsed = time.perf_counter() - t
        got = self.con.execute("SELECT id, best FROM res").fetchnumpy()
        return elapsed, _best_from(np.asarray(got["id"]), np.asarray(got["best"]), n)

    def stop(self) -> None:
        self.con.close()
