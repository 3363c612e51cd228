import Foundation
import RecCore
#if canImport(Glibc)
import Glibc
#endif

/// `recbench gen`: a synthetic shop for scale tests. Item popularity and
/// user activity are Zipf-distributed, and there is latent structure: items
/// fall into groups, each user has a home group and draws most of their
/// items from it, so item-item similarity has something to find.
///
/// Ids are 12-digit numbers (`000000000042`), as redis-benchmark's `-r`
/// placeholder produces, so load tests can hit every id.
enum SyntheticGenerator {
    static func run(_ options: Options) {
        let users = options.int("users", 100_000), items = options.int("items", 10_000)
        let events = options.int("events", 1_000_000)
        let groups = max(1, options.int("groups", max(1, items / 100)))
        let itemSkew = Double(options.string("item-zipf") ?? "1.0") ?? 1.0
        let userSkew = Double(options.string("user-zipf") ?? "0.6") ?? 0.6
        let home = Double(options.string("home-share") ?? "0.8") ?? 0.8
        let out = options.required("out")
        guard users > 0, items > 0, events > 0 else { Options.fail("--users, --items and --events must be positive") }
        var rng = SplitMix64(seed: UInt64(options.int("seed", 1)))
        let t0 = Measure.now()

        // Items are dealt to groups round-robin; within a group, lower rank is more popular.
        let perGroup = (items + groups - 1) / groups
        let itemCDF = zipfCDF(perGroup, itemSkew)
        let globalCDF = zipfCDF(items, itemSkew)
        let userCDF = zipfCDF(users, userSkew)
        // Users get a random rank so heavy users are not simply the low ids.
        var userOrder = Array(0..<users)
        for i in stride(from: users - 1, to: 0, by: -1) { userOrder.swapAt(i, Int(rng.next() % UInt64(i + 1))) }

        mkdir(out, 0o755)
        let fd = open(out + "/events.tsv", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { Options.fail("cannot write \(out)/events.tsv") }
        var buffer: [UInt8] = Array("user\titem\ttype\ttimestamp\n".utf8)
        buffer.reserveCapacity(1 << 20)
        let start: Int64 = 1_700_000_000, span: Int64 = 90 * 86_400
        for _ in 0..<events {
            let u = userOrder[draw(userCDF, &rng)]
            let item: Int
            if rng.nextUnit() < Float(home) {
                let g = u % groups
                var rank = draw(itemCDF, &rng)
                while g + rank * groups >= items { rank = draw(itemCDF, &rng) }
                item = g + rank * groups
            } else {
                item = draw(globalCDF, &rng)
            }
            let roll = rng.next() % 10
            let type = roll < 7 ? "view" : roll < 9 ? "cart" : "purchase"
            appendId(u, &buffer)
            buffer.append(0x09)
            appendId(item, &buffer)
            buffer.append(0x09)
            buffer.append(contentsOf: type.utf8)
            buffer.append(0x09)
            buffer.append(contentsOf: String(start + Int64(rng.next() % UInt64(span))).utf8)
            buffer.append(0x0A)
            if buffer.count > (1 << 20) - 64 { flush(fd, &buffer) }
        }
        flush(fd, &buffer)
        close(fd)
        var itemsText = "item\tcategory\tinstock\n"
        for i in 0..<items { itemsText += "\(id(i))\tg\(i % groups)\t1\n" }
        RetailConverter.write(itemsText, to: out + "/items.tsv")
        print("wrote \(out): \(events) events, \(users) users, \(items) items in \(groups) groups (\(Measure.format(Double(Measure.now() - t0) / 1e9, 1)) s)")
    }

    static func zipfCDF(_ n: Int, _ s: Double) -> [Double] {
        var cdf = [Double](repeating: 0, count: n)
        var total = 0.0
        for k in 0..<n {
            total += 1 / pow(Double(k + 1), s)
            cdf[k] = total
        }
        for k in 0..<n { cdf[k] /= total }
        return cdf
    }

    @inline(__always)
    static func draw(_ cdf: [Double], _ rng: inout SplitMix64) -> Int {
        let x = Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func id(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    @inline(__always)
    static func appendId(_ n: Int, _ out: inout [UInt8]) {
        var digits = [UInt8](repeating: 0x30, count: 12)
        var v = n, i = 11
        while v > 0 && i >= 0 {
            digits[i] = UInt8(0x30 + v % 10)
            v /= 10
            i -= 1
        }
        out.append(contentsOf: digits)
    }

    static func flush(_ fd: Int32, _ buffer: inout [UInt8]) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { Options.fail("write failed") }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
