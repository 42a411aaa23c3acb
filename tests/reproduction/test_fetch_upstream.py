"""fetch_upstream against a local HTTP server: files checked by size and SHA-256, written where
``reproduce`` reads; a wrong file is refused; no network is one paragraph naming the manual way."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.project import PROJECT_ROOT, UPSTREAM_REFERENCE, make_scratch_project

from ct_spatial_bench.reproduction.fetch import (
    UpstreamFileMismatch,
    UpstreamUnreachable,
    fetch_upstream_files,
    load_table,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Server:
    """Serves ``root`` on 127.0.0.1 and counts the requests."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                served.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _fixture(tmp_path: Path) -> tuple[Path, dict]:
    """Two upstream files at ``COMMIT`` and a table of their sizes and digests (hashlib's)."""
    served = tmp_path / "served"
    files = {"dataset/ct_spatialvqa/qa.jsonl": ("dataset/qa.jsonl", b'{"q": 1}\n' * 50),
             "benchmarking/reports/x.json": ("published/x.json", b"[1, 2, 3]")}
    rows = []
    for path, (local, data) in files.items():
        (served / COMMIT / path).parent.mkdir(parents=True, exist_ok=True)
        (served / COMMIT / path).write_bytes(data)
        rows.append({"path": path, "local": local, "size": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()})
    return served, {"repository": "https://github.com/o/Up", "commit": COMMIT, "files": rows}


def test_files_are_fetched_checked_and_kept_on_a_rerun(tmp_path):
    served, table = _fixture(tmp_path)
    target = tmp_path / "data" / "01_raw" / "ct_spatialvqa"
    with _Server(served) as server:
        rows = fetch_upstream_files(server.url, target, table, timeout_s=10)
        assert [r["status"] for r in rows] == ["downloaded", "downloaded"]
        assert (target / "dataset/qa.jsonl").read_bytes() == b'{"q": 1}\n' * 50
        assert (target / "published/x.json").read_bytes() == b"[1, 2, 3]"
        assert server.requests == [f"/{COMMIT}/dataset/ct_spatialvqa/qa.jsonl",
                                   f"/{COMMIT}/benchmarking/reports/x.json"]
        (target / "published/x.json").write_bytes(b"[1, 2, 4]")  # damaged since
        again = fetch_upstream_files(server.url, target, table, timeout_s=10)
        assert [r["status"] for r in again] == ["present", "downloaded"]
        assert len(server.requests) == 3
    assert sorted(p.name for p in target.rglob("*")) == ["dataset", "published", "qa.jsonl",
                                                         "x.json"]  # no partial files left


def test_a_file_that_is_not_the_pinned_one_is_refused_and_not_written(tmp_path):
    served, table = _fixture(tmp_path)
    (served / COMMIT / "benchmarking/reports/x.json").write_bytes(b"[9, 9, 9]")  # same size
    target = tmp_path / "target"
    with _Server(served) as server, pytest.raises(UpstreamFileMismatch) as refused:
        fetch_upstream_files(server.url, target, table, timeout_s=10)
    assert "x.json" in str(refused.value) and table["files"][1]["sha256"] in str(refused.value)
    assert not (target / "published").exists() or not any((target / "published").iterdir())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_without_the_network_the_message_names_the_command_and_the_manual_way(tmp_path):
    _, table = _fixture(tmp_path)
    with pytest.raises(UpstreamUnreachable) as stopped:
        fetch_upstream_files(f"http://127.0.0.1:{_closed_port()}", tmp_path / "t", table, 5)
    message = str(stopped.value)
    assert "kedro run --pipelines fetch_upstream" in message
    assert f"git clone https://github.com/o/Up && git -C Up checkout {COMMIT}" in message
    assert "reproduce.source_dir=Up" in message
    assert not (tmp_path / "t" / "dataset" / "qa.jsonl").exists()


def test_the_pinned_table_matches_the_reference_copies():
    """The table's sizes and digests, recomputed from the reference copies (which README there
    says came from upstream at this commit)."""
    table = load_table()
    assert table["commit"].startswith("e25374c") and len(table["commit"]) == 40
    if not UPSTREAM_REFERENCE.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM_REFERENCE}")
    for row in table["files"]:
        data = (UPSTREAM_REFERENCE / row["local"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (row["size"], row["sha256"])


def _kedro(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "kedro", "run", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=1200)


def test_kedro_run_without_the_network_stops_in_one_paragraph(tmp_path):
    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    done = _kedro(root, "--pipelines", "fetch_upstream", "--params",
                  f"fetch_upstream.base_url=http://127.0.0.1:{_closed_port()}")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    (line,) = [text for text in done.stderr.splitlines() if text.strip()]
    assert line.startswith("Stopped: `kedro run --pipelines fetch_upstream` could not download")
    assert "git clone https://github.com/Mashrafi27/CT-SpatialVQA" in line


@pytest.mark.slow
def test_fetch_upstream_then_reproduce_against_a_server_of_the_real_files(tmp_path):
    if not UPSTREAM_REFERENCE.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM_REFERENCE}")
    table = load_table()
    served = tmp_path / "served"
    for row in table["files"]:  # upstream's layout at the pinned commit
        link = served / table["commit"] / row["path"]
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(UPSTREAM_REFERENCE / row["local"])
    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    with _Server(served) as server:
        fetched = _kedro(root, "--pipelines", "fetch_upstream", "--params",
                         f"fetch_upstream.base_url={server.url}")
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    assert len(server.requests) == len(table["files"])
    # reproduce with its defaults reads what fetch_upstream wrote (METEOR and SBERT off: speed
    # and WordNet; the test of reproduce itself checks those)
    done = _kedro(root, "--pipelines", "reproduce", "--params",
                  "reproduce.sbert=false,reproduce.meteor=false,reproduce.n_boot=20")
    assert done.returncode == 0, done.stderr[-3000:]
    with open(root / "data/08_reporting/reproduction/summary.csv", newline="") as handle:
        ours = {r["model"]: r for r in csv.DictReader(handle)}
    with open(UPSTREAM_REFERENCE / "published/text_metrics_summary.csv", newline="") as handle:
        published = {r["model"].removesuffix("_full"): r for r in csv.DictReader(handle)}
    assert set(ours) == {"radfm", "merlin"}
    for model in ours:
        assert float(ours[model]["bleu"]) == pytest.approx(float(published[model]["bleu"]),
                                                           rel=1e-6)
