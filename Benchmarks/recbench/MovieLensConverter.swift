#if canImport(Glibc)
import Glibc
#endif
import RecCore

/// Turns MovieLens 100K ratings (`user item rating timestamp`) into a recd
/// snapshot. recd takes event types, not ratings: 4-5 stars become
/// purchases, 3 a cart, 1-2 a view, so the default weights (5, 3, 1) follow
/// the rating.
enum MovieLensConverter {
    static func run(_ options: Options) {
        let input = options.string("input") ?? "../shared/data/ml100k_ratings.tsv"
        let out = options.required("out")
        guard let bytes = try? FileBytes.read(input) else { Options.fail("cannot read \(input)") }
        var events = "user\titem\ttype\ttimestamp\n"
        var rows = 0, skipped = 0
        bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            _ = scanner.next()
            while scanner.next() {
                guard scanner.fieldCount >= 4, let rating = ByteParsing.parseInt(scanner.field(2)) else { skipped += 1; continue }
                let s = { (i: Int) in String(decoding: scanner.field(i), as: UTF8.self) }
                events += "\(s(0))\t\(s(1))\t\(rating >= 4 ? "purchase" : rating == 3 ? "cart" : "view")\t\(s(3))\n"
                rows += 1
            }
        }
        mkdir(out, 0o755)
        RetailConverter.write(events, to: out + "/events.tsv")
        print("wrote \(out): \(rows) events (\(skipped) rows left out)")
    }
}
