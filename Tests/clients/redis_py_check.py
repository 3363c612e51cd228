#!/usr/bin/env python3
"""redis-py against a running recd: python redis_py_check.py PORT

recd must already listen on 127.0.0.1:PORT, serving the sample snapshot
(config/sample) with --als-factors 8 (so item vectors exist), a fresh
--data-dir and no password. Uses only redis-py (redis, redis.asyncio), with
its defaults: RESP3 through HELLO 3 unless protocol=2 is asked for.
Prints "ok <check>" per check; the first failure raises (exit status 1).
"""
import asyncio
import sys
import traceback

import redis
import redis.asyncio

HOST = "127.0.0.1"
TIMEOUT = 10  # seconds; a reply the parser waits for forever would hang CI
ITEM = "85123A"


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def client(port, **kwargs):
    return redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT, **kwargs)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def pairs_to_dict(flat):
    expect(len(flat) % 2 == 0, f"expected an even-length flat list of pairs, got {flat!r}")
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


MARKERS = (b"(unknown)", b"(fallback)", "(unknown)", "(fallback)")


def check_resp3_recs(reply, k, what):
    """RESP3: [[item, score], ...] like ZRANGE WITHSCORES; returns the items."""
    expect(isinstance(reply, list), f"{what}: expected a list, got {type(reply).__name__}: {reply!r}")
    expect(len(reply) <= k, f"{what}: more than {k} entries: {reply!r}")
    last = None
    for pair in reply:
        expect(isinstance(pair, (list, tuple)) and len(pair) == 2,
               f"{what}: each entry must be an [item, score] pair (RESP3 shape), got {pair!r} in {reply!r}")
        item, score = pair
        expect(isinstance(item, bytes), f"{what}: item must be bytes, got {item!r}")
        expect(item not in MARKERS, f"{what}: marker {item!r} in the recommendations: {reply!r}")
        expect(isinstance(score, float), f"{what}: score must be a RESP3 double (float), got {score!r}")
        expect(last is None or score <= last, f"{what}: scores must not increase: {reply!r}")
        last = score
    return [p[0] for p in reply]


def check_resp2_recs(reply, k, what):
    """RESP2: flat [item, score, item, score, ...]; returns the items."""
    expect(isinstance(reply, list), f"{what}: expected a list, got {type(reply).__name__}: {reply!r}")
    expect(len(reply) % 2 == 0, f"{what}: expected an even-length flat list, got {reply!r}")
    expect(len(reply) <= 2 * k, f"{what}: more than {k} items: {reply!r}")
    last = None
    for i in range(0, len(reply), 2):
        item, score = reply[i], reply[i + 1]
        expect(isinstance(item, bytes) and item not in MARKERS, f"{what}: bad item {item!r} in {reply!r}")
        expect(isinstance(score, bytes), f"{what}: score must be a bulk string under RESP2, got {score!r}")
        try:
            value = float(score)
        except ValueError:
            raise CheckFailed(f"{what}: score {score!r} is not a number")
        expect(last is None or value <= last, f"{what}: scores must not increase: {reply!r}")
        last = value
    return reply[0::2]


def meta_dict(meta, what):
    """WITHMETA's meta: a dict under RESP3, a flat [name, n, ...] list under RESP2."""
    if isinstance(meta, list):
        meta = pairs_to_dict(meta)
    expect(isinstance(meta, dict), f"{what}: meta must be a dict (RESP3) or a flat list (RESP2), got {meta!r}")
    expect(set(meta) == {b"fallback", b"unknown"}, f"{what}: meta keys must be b'fallback' and b'unknown', got {meta!r}")
    for key, value in meta.items():
        expect(is_int(value), f"{what}: meta {key!r} must be an integer, got {value!r}")
    return meta


def rec_withmeta(r, user, k, resp3, what):
    reply = r.execute_command("REC", user, f"k={k}", "WITHMETA")
    expect(isinstance(reply, list) and len(reply) == 2, f"{what}: expected [recommendations, meta], got {reply!r}")
    recs, meta = reply
    (check_resp3_recs if resp3 else check_resp2_recs)(recs, k, what + " recommendations")
    if resp3:
        expect(isinstance(meta, dict), f"{what}: under RESP3 meta must be a map (dict), got {meta!r}")
    else:
        expect(isinstance(meta, list), f"{what}: under RESP2 meta must be a flat list, got {meta!r}")
    return meta_dict(meta, what)


# --- the checks ---------------------------------------------------------------

def check_resp3_default(port, state):
    r = client(port)
    expect(r.ping() is True, "PING did not return True")
    items = check_resp3_recs(r.execute_command("SIM", ITEM, "k=5"), 5, "SIM (RESP3)")
    expect(len(items) > 0, f"SIM {ITEM} k=5 returned nothing")
    state["sim_items"] = items
    r.close()


def check_resp2(port, state):
    r = client(port, protocol=2)
    expect(r.ping() is True, "PING did not return True under protocol=2")
    items = check_resp2_recs(r.execute_command("SIM", ITEM, "k=5"), 5, "SIM (RESP2)")
    expect(items == state["sim_items"], f"SIM items differ between RESP2 {items!r} and RESP3 {state['sim_items']!r}")
    r.close()


def check_rec_meta(port, state):
    for protocol, resp3 in ((None, True), (2, False)):
        name = "RESP3" if resp3 else "RESP2"
        r = client(port) if protocol is None else client(port, protocol=protocol)
        reply = r.execute_command("REC", "nobody", "k=3")
        (check_resp3_recs if resp3 else check_resp2_recs)(reply, 3, f"REC nobody k=3 ({name})")
        meta = rec_withmeta(r, "nobody", 3, resp3, f"REC nobody k=3 WITHMETA ({name})")
        expect(meta[b"unknown"] == 1, f"REC nobody WITHMETA ({name}): unknown must be 1, got {meta!r}")
        r.close()


def check_client_commands(port, state):
    r = client(port, client_name="shop")
    name = r.client_getname()
    expect(name in ("shop", b"shop"), f"CLIENT GETNAME: expected 'shop', got {name!r}")
    cid = r.client_id()
    expect(is_int(cid), f"CLIENT ID: expected an int, got {cid!r}")
    clients = r.client_list()
    expect(isinstance(clients, list) and any(c.get("name") == "shop" for c in clients),
           f"CLIENT LIST: no entry named 'shop' in {clients!r}")
    expect(r.client_setname("other") is True, "CLIENT SETNAME other did not return True")
    name = r.client_getname()
    expect(name in ("other", b"other"), f"CLIENT GETNAME after SETNAME: expected 'other', got {name!r}")
    r.close()


def check_info(port, state):
    r = client(port)
    info = r.info()
    expect(isinstance(info, dict), f"INFO: expected a dict, got {info!r}")
    for key in ("items", "connected_clients"):
        expect(key in info, f"INFO: no {key!r} in {sorted(info)!r}")
    server = r.info("server")
    expect(isinstance(server, dict) and "redis_version" in server, f"INFO server: no 'redis_version' in {server!r}")
    r.close()


def check_pipelines(port, state):
    r = client(port)
    p = r.pipeline()
    p.execute_command("EVENT", "pyuser", ITEM, "view")
    p.execute_command("REC", "pyuser", "k=3")
    res = p.execute()
    expect(len(res) == 2, f"MULTI/EXEC pipeline: expected 2 results, got {res!r}")
    expect(res[0] in (True, b"OK", "OK"), f"MULTI/EXEC pipeline: EVENT should give OK, got {res[0]!r}")
    expect(isinstance(res[1], list), f"MULTI/EXEC pipeline: REC should give a list, got {res[1]!r}")

    p = r.pipeline()
    p.execute_command("EVENT", "pyabort", ITEM, "view")
    p.execute_command("NOSUCH")
    p.execute_command("EVENT", "pyabort", "22423", "view")
    try:
        res = p.execute()
    except redis.ResponseError as e:
        print(f"   (EXECABORT as expected: {e})")
    else:
        raise CheckFailed(f"a transaction with an unknown command must fail with EXECABORT, got {res!r}")
    meta = rec_withmeta(r, "pyabort", 3, True, "REC pyabort k=3 WITHMETA after EXECABORT")
    expect(meta[b"unknown"] == 1, f"after EXECABORT no EVENT may have run (pyabort unknown), got meta {meta!r}")

    p = r.pipeline(transaction=False)
    p.ping()
    p.execute_command("SIM", ITEM, "k=2")
    p.execute_command("REC", "pyuser", "k=2")
    res = p.execute()
    expect(len(res) == 3, f"pipeline(transaction=False): expected 3 results, got {res!r}")
    expect(res[0] is True, f"pipeline(transaction=False): PING gave {res[0]!r}")
    check_resp3_recs(res[1], 2, "pipelined SIM")
    r.close()


def check_server_commands(port, state):
    r = client(port, decode_responses=True)
    expect(r.save() is True, "SAVE did not return True (redis-py wants the reply to be exactly OK)")
    got = r.config_get("max-k")
    expect(got == {"max-k": "1000"}, f"CONFIG GET max-k: expected {{'max-k': '1000'}}, got {got!r}")
    expect(r.config_set("max-k", 500) is True, "CONFIG SET max-k 500 did not return True")
    try:
        got = r.config_get("max-k")
        expect(got == {"max-k": "500"}, f"CONFIG GET max-k after CONFIG SET 500: got {got!r}")
        try:
            r.execute_command("SIM", ITEM, "k=600")
        except redis.ResponseError:
            pass
        else:
            raise CheckFailed("SIM k=600 must fail while max-k is 500")
    finally:
        expect(r.config_set("max-k", 1000) is True, "CONFIG SET max-k 1000 did not return True")
    got = r.config_get("max-k")
    expect(got == {"max-k": "1000"}, f"CONFIG GET max-k after setting it back: got {got!r}")
    t = r.time()
    expect(isinstance(t, tuple) and len(t) == 2 and all(is_int(x) for x in t), f"TIME: expected (int, int), got {t!r}")
    expect(0 <= t[1] < 1_000_000, f"TIME: microseconds out of range: {t!r}")
    expect(r.execute_command("SELECT", 0) in (True, "OK"), "SELECT 0 did not succeed")
    try:
        r.execute_command("SELECT", 1)
    except redis.ResponseError:
        pass
    else:
        raise CheckFailed("SELECT 1 must fail (recd has one database)")
    r.close()


def check_vset(port, state):
    r = client(port)
    scored = r.vset().vsim("items", ITEM, with_scores=True, count=5)
    expect(isinstance(scored, dict), f"VSIM WITHSCORES: expected a dict, got {scored!r}")
    expect(0 < len(scored) <= 5, f"VSIM WITHSCORES COUNT 5: expected 1 to 5 members, got {scored!r}")
    for member, score in scored.items():
        expect(isinstance(member, bytes), f"VSIM: member must be bytes, got {member!r}")
        expect(isinstance(score, float), f"VSIM: score must be a float, got {score!r}")
    members = r.vset().vsim("items", ITEM, count=3)
    expect(isinstance(members, list) and 0 < len(members) <= 3 and all(isinstance(m, bytes) for m in members),
           f"VSIM COUNT 3: expected a list of 1 to 3 members, got {members!r}")
    r.close()


def check_asyncio(port, state):
    async def run():
        r = redis.asyncio.Redis(host=HOST, port=port, socket_timeout=TIMEOUT)
        try:
            expect(await r.ping() is True, "asyncio PING did not return True")
            # (not compared with the first SIM: SAVE above rebuilt the index with the live events)
            items = check_resp3_recs(await r.execute_command("SIM", ITEM, "k=5"), 5, "asyncio SIM (RESP3)")
            expect(len(items) > 0, f"asyncio SIM {ITEM} k=5 returned nothing")
            async with r.pipeline(transaction=True) as p:
                p.execute_command("EVENT", "pyasync", ITEM, "view")
                p.execute_command("EVENT", "pyasync", "22423", "cart")
                res = await p.execute()
            expect(len(res) == 2 and all(x in (True, b"OK", "OK") for x in res),
                   f"asyncio MULTI/EXEC of 2 EVENTs: expected 2 OKs, got {res!r}")
        finally:
            await r.aclose()
    asyncio.run(run())


def check_from_url(port, state):
    r = redis.Redis.from_url(f"redis://{HOST}:{port}/0", socket_timeout=TIMEOUT)
    expect(r.ping() is True, "from_url(.../0).ping() did not return True")
    r.close()


CHECKS = [
    ("resp3-default", check_resp3_default),
    ("resp2", check_resp2),
    ("rec-withmeta", check_rec_meta),
    ("client-commands", check_client_commands),
    ("info", check_info),
    ("pipelines", check_pipelines),
    ("server-commands", check_server_commands),
    ("vset-vsim", check_vset),
    ("asyncio", check_asyncio),
    ("from-url", check_from_url),
]


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: redis_py_check.py PORT", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    state = {}
    for name, check in CHECKS:
        try:
            check(port, state)
        except Exception as e:  # report which check failed, then stop
            traceback.print_exc()
            print(f"FAIL {name}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        print(f"ok {name}", flush=True)
    print(f"redis-py {redis.__version__}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
