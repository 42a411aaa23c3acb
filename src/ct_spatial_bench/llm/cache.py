"""LLM results on disk (SQLite), so a rerun or a crash re-pays nothing.

``SQLiteStore`` is the shared part: one file, every write committed before it returns. Its
journal mode follows the folder's filesystem (``journal_mode_for``): WAL on a local disk, the
rollback journal (``DELETE``, ``synchronous=FULL``) on a network filesystem (NFS, CIFS, Lustre,
GPFS...), where SLURM jobs on several nodes share the cache and WAL's shared-memory index is
unsafe (SQLite's documentation: "WAL does not work over a network filesystem"). The mode can be
forced (``journal_mode``: wal | delete | auto).
``ReplyCache`` keeps reply texts keyed by (provider, model, prompt version, input text); the
judges' ``VerdictCache`` keeps parsed verdicts the same way. Only replies worth keeping are put:
a call that never got a reply is not cached, so the next run asks again.

A paid reply is kept or the run stops: opening a store proves it can be written (a read-only
folder fails there, before the first paid call), and a write that fails (disk full, read-only)
raises ``CacheWriteError`` naming the file, which the engine turns into a stop.

Claims: two runs sharing a store pay for an item once. A run ``claim``s the keys it is about to
ask (a lease of ``lease_s`` seconds, renewed by ``renew`` while it works, dropped by ``release``);
another run skips keys claimed by a live lease and reads their replies once they are stored. A
killed run's leases expire, and its items are then claimed by whoever asks next; on the same host
a claim whose process is gone is free at once (a resumed job does not wait out the lease).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


# How long a claim lives without renewal: a killed run's items are free again after this long
# (at once on the same host). A live run renews its claims every third of it.
LEASE_S = 60.0
POLL_S = 0.2  # how often a run waiting on another's items looks for their replies
LOCK_TIMEOUT_S = 30.0  # how long a store waits on another process's lock before it gives up


# Filesystem types (as /proc/mounts names them) where processes on several hosts share a file.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "cephfs",
    "glusterfs", "fuse.glusterfs", "fuse.sshfs", "fuse.cephfs", "fuse.beegfs", "9p", "afs",
    "ocfs2", "gfs2", "panfs", "fuse.s3fs", "fuse.rclone", "pvfs2", "orangefs", "wekafs",
})
JOURNAL_MODES = ("auto", "wal", "delete")


def filesystem_type(path: str | Path, mounts: str | Path = "/proc/mounts") -> str | None:
    """The type of the filesystem holding ``path`` (its longest mount point in ``mounts``), or
    None where that cannot be read (not Linux)."""
    try:
        lines = Path(mounts).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def journal_mode_for(path: str | Path, requested: str | None = "auto",
                     mounts: str | Path = "/proc/mounts") -> str:
    """``wal`` or ``delete`` for a store in folder ``path``: as ``requested``, or with ``auto``
    (None) ``delete`` on a network filesystem and ``wal`` elsewhere."""
    requested = (requested or "auto").lower()
    if requested not in JOURNAL_MODES:
        raise ValueError(f"cache journal mode {requested!r} is not one of {JOURNAL_MODES}")
    if requested != "auto":
        return requested
    return "delete" if filesystem_type(path, mounts) in NETWORK_FILESYSTEMS else "wal"


class CacheWriteError(OSError):
    """A reply that was paid for cannot be stored (disk full, read-only file): the run must stop."""


def owner_id() -> str:
    """Who holds a claim: host, process and a random part (two stores in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` was a process on this host that no longer runs (another host's cannot be
    checked: its lease decides)."""
    from ct_spatial_bench.fileio import process_alive

    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid))


def record_key(*fields: str) -> str:
    """A digest of the fields, JSON-encoded so that no separator can make two keys collide."""
    return hashlib.sha256(json.dumps(list(fields), ensure_ascii=False).encode("utf-8")).hexdigest()


def _retry_while_locked(step: Callable[[], None], timeout_s: float = LOCK_TIMEOUT_S) -> None:
    """Run ``step`` again while SQLite answers "locked"/"busy" without waiting: switching the
    journal mode, or upgrading a read lock while another connection writes, fails at once
    instead of calling the busy handler (SQLite's deadlock avoidance), so two runs opening one
    new cache together would otherwise stop one of them."""
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class SQLiteStore:
    """One table in one SQLite file; ``path=None`` keeps it in memory. Autocommit: each write is
    durable once the call returns.

    A subclass names its ``table`` and its ``columns`` ("name TYPE", all NOT NULL) between the
    ``key`` primary key and the ``created`` time every row gets.
    """

    table = ""
    columns: tuple[str, ...] = ()

    # Columns added after a store's first release, with the value old rows get: (column, default).
    added_columns: tuple[tuple[str, str], ...] = ()

    def __init__(self, path: str | Path | None, journal_mode: str | None = "auto") -> None:
        self.path = Path(path) if path else None
        self.owner = owner_id()
        self.journal_mode = "memory"
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.journal_mode = journal_mode_for(self.path.parent, journal_mode)
            self._db = sqlite3.connect(str(self.path) if self.path else ":memory:",
                                       isolation_level=None, check_same_thread=False,
                                       timeout=LOCK_TIMEOUT_S)
            _retry_while_locked(self._set_up)
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError(f"{self.path}: the cache cannot be written ({exc}); "
                                  "nothing was asked") from exc

    def _set_up(self) -> None:
        """Journal mode, tables and a trial write (the preflight: a store that cannot take a write
        fails now, before any paid call). Idempotent, so a locked attempt is simply repeated."""
        if self.path is not None:
            self._db.execute(f"PRAGMA journal_mode={self.journal_mode.upper()}")
            # NORMAL in WAL mode: a commit survives a killed process (not a power cut);
            # FULL with the rollback journal, which needs it for the same guarantee.
            self._db.execute("PRAGMA synchronous=" +
                             ("NORMAL" if self.journal_mode == "wal" else "FULL"))
        columns = ", ".join(f"{c} NOT NULL" for c in (*self.columns, "created REAL"))
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                         f"(key TEXT PRIMARY KEY, {columns})")
        present = {row[1] for row in self._db.execute(f"PRAGMA table_info({self.table})")}
        for column, default in self.added_columns:
            if column.split()[0] not in present:
                try:
                    self._db.execute(f"ALTER TABLE {self.table} ADD COLUMN {column} NOT NULL "
                                     f"DEFAULT {default}")
                except sqlite3.OperationalError as exc:  # another run added it meanwhile
                    if "duplicate column" not in str(exc):
                        raise
        self._db.execute("CREATE TABLE IF NOT EXISTS claims "
                         "(key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL)")
        self._db.execute("INSERT OR REPLACE INTO claims VALUES ('', ?, 0)", (self.owner,))
        self._db.execute("DELETE FROM claims WHERE key = ''")

    def _write(self, sql: str, args: Iterable[Any] = ()) -> None:
        try:
            self._db.execute(sql, tuple(args))
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError(f"{self.path or ':memory:'}: a paid reply could not be stored "
                                  f"({exc}); the run stops so that no more are lost") from exc

    def _put(self, key: str, *values: Any) -> None:
        """Insert or replace one row (``values`` in ``columns`` order) and drop this store's
        claim on it, committed on return."""
        marks = ", ".join("?" * (len(values) + 2))
        names = ", ".join(["key", *(c.split()[0] for c in self.columns), "created"])
        self._write(f"INSERT OR REPLACE INTO {self.table} ({names}) VALUES ({marks})",
                    (key, *values, time.time()))
        self.release([key])

    # -- claims
    def claim(self, keys: Iterable[str], lease_s: float,
              stale: frozenset[str] | set[str] = frozenset()) -> set[str]:
        """The keys among ``keys`` this store now holds: unclaimed ones, expired ones and its own.
        A key already answered in the table is not claimed (read it instead) unless it is in
        ``stale`` (a refresh asks it again)."""
        now, got = time.time(), set()
        self._write("BEGIN IMMEDIATE")
        try:
            for key in keys:
                if key not in stale and self._db.execute(
                        f"SELECT 1 FROM {self.table} WHERE key = ?", (key,)).fetchone():
                    continue
                row = self._db.execute("SELECT owner, expires FROM claims WHERE key = ?",
                                       (key,)).fetchone()
                if row is None or row[0] == self.owner or row[1] < now or \
                        _owner_is_dead(row[0]):
                    self._db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                                     (key, self.owner, now + lease_s))
                    got.add(key)
            self._write("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return got

    def hold(self, keys: Iterable[str], lease_s: float,
             stale: frozenset[str] | set[str] = frozenset()) -> bool:
        """Right before a call: whether every key is still this store's to ask, renewing the
        leases if so. A claim that lapsed while this run was paused (SIGSTOP, a frozen node) and
        was taken by another run, or whose item another run has answered since, is lost: the
        call is not made, and its items are read from the cache instead."""
        keys, now = list(keys), time.time()
        # Ours with time to spare (a third of a lease): nobody can take them before the call is
        # sent, and nothing needs writing (every call's write would grow the journal).
        rows = [self._db.execute("SELECT owner, expires FROM claims WHERE key = ?",
                                 (key,)).fetchone() for key in keys]
        if all(row is not None and row[0] == self.owner and row[1] > now + lease_s / 3
               for row in rows):
            return True
        self._write("BEGIN IMMEDIATE")
        try:
            for key in keys:
                if key not in stale and self._db.execute(
                        f"SELECT 1 FROM {self.table} WHERE key = ?", (key,)).fetchone():
                    self._write("ROLLBACK")
                    return False
                row = self._db.execute("SELECT owner FROM claims WHERE key = ?",
                                       (key,)).fetchone()
                if row is not None and row[0] != self.owner:
                    self._write("ROLLBACK")
                    return False
            self._db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                                 [(key, self.owner, now + lease_s) for key in keys])
            self._write("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return True

    def renew(self, lease_s: float) -> None:
        """Extend every lease this store holds (a live run keeps its items)."""
        self._write("UPDATE claims SET expires = ? WHERE owner = ?",
                    (time.time() + lease_s, self.owner))

    def release(self, keys: Iterable[str] | None = None) -> None:
        """Drop this store's claims on ``keys`` (None: all of them)."""
        if keys is None:
            self._write("DELETE FROM claims WHERE owner = ?", (self.owner,))
            return
        try:
            self._db.executemany("DELETE FROM claims WHERE key = ? AND owner = ?",
                                 [(key, self.owner) for key in keys])
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError(f"{self.path}: claims could not be released ({exc})") from exc

    def claimed_elsewhere(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` held by another store's live lease."""
        now = time.time()
        return {key for key in keys
                if (row := self._db.execute("SELECT owner, expires FROM claims WHERE key = ?",
                                            (key,)).fetchone())
                and row[0] != self.owner and row[1] >= now and not _owner_is_dead(row[0])}

    def __len__(self) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        try:
            self.release()
        except CacheWriteError:  # the claims expire on their own
            pass
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ReplyCache(SQLiteStore):
    """Reply texts: ``get(key)`` -> ``{text, tokens, latency_s}`` or None; ``put`` commits one."""

    table = "replies"
    columns = ("provider TEXT", "model TEXT", "prompt_version TEXT", "text TEXT", "tokens TEXT",
               "latency_s REAL")

    @staticmethod
    def key(provider: str, model: str, prompt_version: str, input_text: str) -> str:
        return record_key(provider, model, prompt_version, input_text)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT text, tokens, latency_s FROM replies WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        return {"text": row[0], "tokens": json.loads(row[1]), "latency_s": row[2]}

    def put(self, key: str, provider: str, model: str, prompt_version: str, text: str,
            tokens: dict[str, int], latency_s: float) -> None:
        self._put(key, provider, model, prompt_version, text, json.dumps(tokens),
                  float(latency_s))
