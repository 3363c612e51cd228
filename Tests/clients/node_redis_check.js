#!/usr/bin/env node
// node-redis (4.x, RESP2 only) against a running recd: node node_redis_check.js PORT
// recd must listen on 127.0.0.1:PORT serving the sample snapshot (config/sample).
'use strict';

let redis;
try {
    redis = require('redis');
} catch (e) {
    // Debian's node-redis (and its @redis/* dependencies) live in
    // /usr/share/nodejs, which only Debian's own nodejs searches by default
    // (NodeSource's does not): add it to the global search path.
    const Module = require('module');
    process.env.NODE_PATH = ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':');
    Module._initPaths();
    redis = require('redis');
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node_redis_check.js PORT');
    process.exit(2);
}

function fail(message) {
    console.error('FAIL ' + message);
    process.exit(1);
}

function expect(condition, message) {
    if (!condition) throw new Error(message);
}

setTimeout(() => fail('timed out after 20 s'), 20000).unref();

async function main() {
    const client = redis.createClient({
        socket: { host: '127.0.0.1', port, reconnectStrategy: () => new Error('no reconnects in a test') },
        name: 'nodeshop',
    });
    client.on('error', (e) => fail('client error: ' + e));
    await client.connect();  // sends CLIENT SETNAME nodeshop
    console.log('ok connect');

    const sim = await client.sendCommand(['SIM', '85123A', 'k=3']);
    expect(Array.isArray(sim) && sim.length > 0 && sim.length <= 6 && sim.length % 2 === 0,
        'SIM 85123A k=3: expected a flat array [item, score, ...] of even length, got ' + JSON.stringify(sim));
    for (let i = 0; i < sim.length; i += 2) {
        expect(typeof sim[i] === 'string' && !sim[i].startsWith('('), 'SIM: bad item ' + JSON.stringify(sim[i]));
        expect(Number.isFinite(Number(sim[i + 1])), 'SIM: score is not a number: ' + JSON.stringify(sim[i + 1]));
    }
    console.log('ok sim');

    const res = await client.multi()
        .addCommand(['EVENT', 'nodeuser', '85123A', 'view'])
        .addCommand(['REC', 'nodeuser', 'k=2'])
        .exec();
    expect(Array.isArray(res) && res.length === 2, 'MULTI/EXEC: expected 2 results, got ' + JSON.stringify(res));
    expect(res[0] === 'OK', 'MULTI/EXEC: EVENT should give OK, got ' + JSON.stringify(res[0]));
    expect(Array.isArray(res[1]), 'MULTI/EXEC: REC should give an array, got ' + JSON.stringify(res[1]));
    console.log('ok multi-exec');

    const name = await client.sendCommand(['CLIENT', 'GETNAME']);
    expect(name === 'nodeshop', "CLIENT GETNAME: expected 'nodeshop', got " + JSON.stringify(name));
    console.log('ok client-getname');

    await client.quit();
    console.log('ok quit');
    console.log('node-redis: all checks passed');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
