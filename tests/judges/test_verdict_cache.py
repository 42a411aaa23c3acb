import sqlite3

from ct_spatial_bench.judges.cache import VerdictCache, cache_key


IDENTITY = {"name": "openai", "provider": "openai", "base_url": "https://api.openai.com/v1",
            "model": "gpt-4o", "prompt_version": "v1@abc", "parser": "yes_no"}


def test_key_separates_every_field():
    base = ["q", "a", "p"]
    keys = {cache_key(IDENTITY, *base)}
    for field in IDENTITY:  # every part of the judge's identity (issue 21)
        keys.add(cache_key({**IDENTITY, field: IDENTITY[field] + "x"}, *base))
    for i in range(len(base)):
        changed = list(base)
        changed[i] += "x"
        keys.add(cache_key(IDENTITY, *changed))
    assert len(keys) == 1 + len(IDENTITY) + 3
    # Fields cannot bleed into each other through a separator.
    assert cache_key(IDENTITY, "q a", "b", "p") != cache_key(IDENTITY, "q", "a b", "p")


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
                                  "raw": "YES", "tokens": {"total": 12}, "latency_s": 0.5,
                                  "parser_version": "", "item_index": 0, "batch_size": 1}
        assert cache.get("other") is None and len(cache) == 1


def test_claims_across_two_stores_and_their_expiry(tmp_path):
    import time

    path = tmp_path / "c.sqlite"
    with VerdictCache(path) as first, VerdictCache(path) as second:
        assert first.claim(["a", "b"], lease_s=0.3) == {"a", "b"}
        assert second.claim(["a", "b", "c"], lease_s=0.3) == {"c"}  # a, b are first's
        assert second.claimed_elsewhere(["a", "b", "c"]) == {"a", "b"}
        first.put("a", "p", "m", "v", "correct", "r", "YES", {}, 0.1)  # stored: claim dropped
        assert second.claim(["a"], lease_s=0.3) == set()  # answered: read it, do not ask
        time.sleep(0.2)
        first.renew(0.3)  # a live run renews its lease before it runs out
        time.sleep(0.2)
        assert second.claim(["b"], lease_s=0.3) == set()
        time.sleep(0.35)  # first stops renewing, as a dead run on another host would
        assert second.claim(["b"], lease_s=0.3) == {"b"}
    with VerdictCache(path) as third:  # closing released every claim
        assert third.claimed_elsewhere(["b", "c"]) == set()
