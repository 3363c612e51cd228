#if canImport(Glibc)
import Glibc
#endif
import RecCore

/// Turns UCI Online Retail (`../shared/data/online_retail.tsv`) into a recd
/// snapshot. What it keeps: purchases by known customers (a customer id, a
/// positive quantity and price, not a `C` cancellation) of real products
/// (stock codes starting with a digit; POST, DOT, M, BANK CHARGES and the
/// like are fees, not products). The data set has no categories, so one is
/// derived from keywords of the description (documented in config/sample).
enum RetailConverter {
    static func run(_ options: Options) {
        let input = options.string("input") ?? "../shared/data/online_retail.tsv"
        let out = options.required("out")
        let from = options.string("from") ?? "0000"
        let to = options.string("to") ?? "9999"
        // redis-benchmark's `-r N` puts 12-digit numbers below N where a command
        // says __rand_int__; with ids renumbered that way its requests all hit.
        let numeric = options.flag("numeric-ids")
        var userNumbers: [String: String] = [:], itemNumbers: [String: String] = [:]
        func renumber(_ id: String, _ table: inout [String: String]) -> String {
            guard numeric else { return id }
            if let n = table[id] { return n }
            let digits = String(table.count)
            let n = String(repeating: "0", count: 12 - digits.count) + digits
            table[id] = n
            return n
        }
        guard let bytes = try? FileBytes.read(input) else { Options.fail("cannot read \(input)") }
        var events = "user\titem\ttype\ttimestamp\tquantity\n"
        var items: [String: (title: String, price: String)] = [:]
        var order: [String] = []
        var kept = 0, skipped = 0
        bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            _ = scanner.next()  // header
            while scanner.next() {
                guard scanner.fieldCount >= 8 else { skipped += 1; continue }
                let s = { (i: Int) in String(decoding: scanner.field(i), as: UTF8.self) }
                let invoice = s(0), code = s(1), date = s(4), customer = s(6)
                let day = String(date.prefix(10))
                guard !customer.isEmpty, !invoice.hasPrefix("C"), let first = code.first, first.isNumber,
                      let quantity = Int(s(3)), quantity > 0, let price = Double(s(5)), price > 0,
                      day >= from, day <= to
                else { skipped += 1; continue }
                let user = renumber(customer, &userNumbers), item = renumber(code, &itemNumbers)
                events += "\(user)\t\(item)\tpurchase\t\(date)\t\(quantity)\n"
                kept += 1
                let title = s(2).trimmingSpaces()
                if items[code] == nil { order.append(code); items[code] = (title, s(5)) }
                else if items[code]!.title.isEmpty { items[code]!.title = title }
                items[code]!.price = s(5)
            }
        }
        mkdir(out, 0o755)
        var itemsText = "item\ttitle\tcategory\tprice\tinstock\n"
        for code in order {
            let item = items[code]!
            itemsText += "\(numeric ? itemNumbers[code]! : code)\t\(item.title)\t\(category(of: item.title))\t\(item.price)\t1\n"
        }
        write(events, to: out + "/events.tsv")
        write(itemsText, to: out + "/items.tsv")
        print("wrote \(out): \(kept) purchase events, \(order.count) items (\(skipped) source rows left out)")
        if numeric { print("ids renumbered: users 0..<\(userNumbers.count), items 0..<\(itemNumbers.count) (12 digits)") }
    }

    /// First matching keyword group wins; "other" when none matches.
    static let keywordCategories: [(String, [String])] = [
        ("christmas", ["CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER"]),
        ("bags", ["BAG", "BAGS", "SHOPPER", "TOTE"]),
        ("candles", ["CANDLE", "CANDLES", "T-LIGHT", "T-LIGHTS", "TEALIGHT", "HOLDER"]),
        ("lighting", ["LIGHTS", "LIGHT", "LAMP", "LANTERN", "NIGHTLIGHT"]),
        ("kitchen", ["MUG", "CUP", "CUPS", "TEACUP", "PLATE", "PLATES", "BOWL", "TEAPOT", "JUG", "GLASS",
                     "CAKESTAND", "NAPKINS", "TRAY", "CUTLERY", "BAKING", "CAKE", "LUNCH", "APRON", "TEA", "SPOON"]),
        ("paper", ["CARD", "CARDS", "WRAP", "PAPER", "RIBBON", "RIBBONS", "TAPE", "ENVELOPE", "NOTEBOOK", "STICKER",
                   "STICKERS", "PENCIL", "PENCILS", "PEN", "CALENDAR"]),
        ("storage", ["BOX", "BOXES", "TIN", "TINS", "JAR", "BASKET", "STORAGE", "CASE", "DRAWER"]),
        ("kids", ["TOY", "GAME", "DOLL", "PUZZLE", "SPACEBOY", "DOLLY", "CHILDRENS", "KIDS", "BABY", "PARTY",
                  "BALLOON", "BALLOONS", "PLAYHOUSE"]),
        ("accessories", ["NECKLACE", "EARRINGS", "BRACELET", "RING", "HAIR", "PURSE", "UMBRELLA", "WALLET",
                         "CHARM", "BROOCH", "HAT", "SCARF"]),
        ("garden", ["GARDEN", "PLANT", "WATERING", "BIRD", "FLOWER", "POT", "PLANTER"]),
        ("home", ["SIGN", "FRAME", "CLOCK", "MIRROR", "DOORMAT", "CUSHION", "ORNAMENT", "HANGING", "DECORATION",
                  "WREATH", "HOOK", "HOOKS", "DOORSTOP", "BUNTING", "GARLAND", "CURTAIN", "THROW", "BLANKET"]),
    ]

    static func category(of title: String) -> String {
        let words = Set(title.uppercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" }).map(String.init))
        for (name, keywords) in keywordCategories where keywords.contains(where: words.contains) { return name }
        return "other"
    }

    static func write(_ text: String, to path: String) {
        guard let f = fopen(path, "w") else { Options.fail("cannot write \(path)") }
        var copy = text
        copy.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
