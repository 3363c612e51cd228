import RecCore
#if canImport(Glibc)
import Glibc
#endif

/// `recbench redis-zsets`: the usual alternative to recd, precomputed
/// "similar items" lists in Redis sorted sets, built from the same index so
/// both serve the same answers. Writes RESP to stdout for `redis-cli --pipe`.
enum RedisZsets {
    static func run(_ options: Options) {
        let dir = options.required("snapshot")
        var config = BuildConfig()
        config.neighbors = options.int("neighbors", config.neighbors)
        let snapshot: Snapshot
        do { snapshot = try SnapshotLoader.load(directory: dir) } catch { Options.fail(error.description) }
        let index = IndexBuilder.build(snapshot, config: config)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        var sets = 0
        for i in 0..<UInt32(index.itemCount) {
            let range = index.neighbors.range(of: i)
            if range.isEmpty { continue }
            var args: [[UInt8]] = [Array("ZADD".utf8), Array("sim:".utf8) + index.items.withName(i) { Array($0) }]
            for x in range {
                args.append(Array(String(index.neighbors.scores[x]).utf8))
                args.append(index.items.withName(index.neighbors.ids[x]) { Array($0) })
            }
            out.append(contentsOf: "*\(args.count)\r\n".utf8)
            for a in args {
                out.append(contentsOf: "$\(a.count)\r\n".utf8)
                out.append(contentsOf: a)
                out.append(contentsOf: [0x0D, 0x0A])
            }
            sets += 1
            if out.count > 1 << 20 { emit(&out) }
        }
        emit(&out)
        printError("redis-zsets: \(sets) sorted sets of up to \(config.neighbors) members")
    }

    static func emit(_ out: inout [UInt8]) {
        var done = 0
        while done < out.count {
            let n = out.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { exit(1) }
            done += n
        }
        out.removeAll(keepingCapacity: true)
    }
}
