"""Atomic writes leave files with the mode the umask gives a plain open(), not mkstemp's 0600."""

import os
import stat

import pytest

from ct_spatial_bench.fileio import atomic_write_bytes


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_write_honours_the_umask(tmp_path, umask, expected):
    previous = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "out.jsonl", b"{}\n")
        plain = tmp_path / "plain.txt"
        plain.write_bytes(b"x")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode)
    assert mode == expected == stat.S_IMODE(plain.stat().st_mode)
