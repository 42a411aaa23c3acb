import sqlite3

from ct_spatial_bench.judges.cache import VerdictCache, cache_key


def test_key_separates_every_field():
    base = ["openai", "gpt-4o", "v1@abc", "q", "a", "p"]
    keys = {cache_key(*base)}
    for i in range(len(base)):
        changed = list(base)
        changed[i] += "x"
        keys.add(cache_key(*changed))
    assert len(keys) == 7
    # Fields cannot bleed into each other through a separator.
    assert cache_key("o", "m", "v", "q a", "b", "p") != cache_key("o", "m", "v", "q", "a b", "p")


def test_verdicts_persist_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "cache.sqlite"
    with VerdictCache(path) as cache:
        cache.put("k", "openai", "gpt-4o", "v1", "correct", "judge answered YES", "YES",
                  {"total": 12}, 0.5)
        # Committed before the writer closes: another connection sees it now.
        other = sqlite3.connect(path)
        assert other.execute("SELECT verdict FROM verdicts").fetchall() == [("correct",)]
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        other.close()
    with VerdictCache(path) as cache:
        assert cache.get("k") == {"verdict": "correct", "reason": "judge answered YES",
                                  "raw": "YES", "tokens": {"total": 12}, "latency_s": 0.5}
        assert cache.get("other") is None and len(cache) == 1
