import RecCore

/// `VSIM` in Redis 8's vector-set syntax, so redis-py's `vset().vsim(...)`
/// and other clients' vector-set calls work: the item vectors are one
/// vector set named `items`. As in Redis, an unknown set is an empty reply,
/// an unknown element an error, the element itself comes first with
/// similarity 1, and scores are Redis's (1 + cosine) / 2, from 0 to 1.
/// FILTER runs over the catalog fields (VectorFilter) on the FILTER-EF best
/// candidates. (recd's own form, with cosine scores, its filters and the
/// popularity fallback, is VLIKE.)
enum VectorSetQuery {
    static let setName = "items"

    static func isRedisForm(_ request: Request) -> Bool {
        request.count >= 4 && (ByteParsing.equalsLowercase(request[2], "ele") || ByteParsing.equalsLowercase(request[2], "values")
            || ByteParsing.equalsLowercase(request[2], "fp32"))
    }
}

extension CommandHandler {
    func vectorSetQuery(_ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) {
        var options = QueryOptions()
        options.fallback = false
        options.ef = config.hnswEf
        scratch.excludeItems.removeAll(keepingCapacity: true)
        scratch.requestVector.removeAll(keepingCapacity: true)
        var element: UnsafeBufferPointer<UInt8>?
        var i = 3
        let how = request[2]
        if ByteParsing.equalsLowercase(how, "ele") {
            element = request[3]
            i = 4
        } else if ByteParsing.equalsLowercase(how, "values") {
            guard let n = ByteParsing.parseInt(request[3]), ValueRanges.dimensions.contains(Int(n)), 4 + Int(n) <= request.count else {
                throw .syntax("VALUES must be followed by the vector's dimension (1 to 4096) and that many numbers, got '\(Request.show(request[3]))'")
            }
            for x in 0..<Int(n) {
                guard let v = ArgumentRanges.vectorComponent(request[4 + x]) else {
                    throw .syntax("vector values must be finite numbers from -1e9 to 1e9, got '\(Request.show(request[4 + x]))'")
                }
                scratch.requestVector.append(v)
            }
            i = 4 + Int(n)
        } else {
            let blob = request[3]
            guard blob.count % 4 == 0, ValueRanges.dimensions.contains(blob.count / 4) else {
                throw .syntax("FP32 must be followed by 4 to 16384 bytes of little-endian float32 values, got \(blob.count) bytes")
            }
            for x in 0..<(blob.count / 4) {
                let bits = UInt32(blob[4 * x]) | UInt32(blob[4 * x + 1]) << 8 | UInt32(blob[4 * x + 2]) << 16 | UInt32(blob[4 * x + 3]) << 24
                let v = Float(bitPattern: bits)
                guard v.isFinite, abs(Double(v)) <= ValueRanges.maxComponent else {
                    throw .syntax("vector values must be finite numbers from -1e9 to 1e9, got \(v) at position \(x + 1)")
                }
                scratch.requestVector.append(v)
            }
            i = 4
        }
        var withScores = false, withAttributes = false, count = 10, epsilon: Double?
        var filter: VectorFilter?, filterEf: Int?
        while i < request.count {
            let word = request[i]
            func value() throws(CommandError) -> UnsafeBufferPointer<UInt8> {
                guard i + 1 < request.count else { throw .syntax("\(Request.show(word)) needs a value") }
                i += 1
                return request[i]
            }
            if ByteParsing.equalsLowercase(word, "withscores") {
                withScores = true
            } else if ByteParsing.equalsLowercase(word, "withattribs") {
                withAttributes = true
            } else if ByteParsing.equalsLowercase(word, "count") {
                count = try ArgumentRanges.k(try value(), maxK: config.maxK)
            } else if ByteParsing.equalsLowercase(word, "ef") {
                options.ef = try ArgumentRanges.ef(try value())
            } else if ByteParsing.equalsLowercase(word, "epsilon") {
                let v = try value()
                guard let e = ByteParsing.parseDouble(v), e >= 0, e <= 1 else {
                    throw .syntax("EPSILON must be a number from 0 to 1, got '\(Request.show(v))'")
                }
                epsilon = e
            } else if ByteParsing.equalsLowercase(word, "truth") {
                options.ef = 0  // exact scan
            } else if ByteParsing.equalsLowercase(word, "nothread") {
                // recd's queries always run on the connection's loop
            } else if ByteParsing.equalsLowercase(word, "filter") {
                let text = String(decoding: try value(), as: UTF8.self)
                do { filter = try VectorFilter.parse(text) } catch { throw .syntax(error.message) }
            } else if ByteParsing.equalsLowercase(word, "filter-ef") {
                let v = try value()
                guard let n = ByteParsing.parseInt(v), n >= 1, n <= 100_000 else {
                    throw .syntax("FILTER-EF must be an integer from 1 to 100000, got '\(Request.show(v))'")
                }
                filterEf = Int(n)
            } else {
                throw .syntax("unknown VSIM option '\(Request.show(word))' (WITHSCORES, WITHATTRIBS, COUNT, EF, EPSILON, FILTER, FILTER-EF, TRUTH, NOTHREAD)")
            }
            i += 1
        }
        guard request[1].elementsEqual(VectorSetQuery.setName.utf8) else {
            // Redis answers a missing key with an empty reply; under RESP3
            // with scores an empty map, which clients read as a dict.
            encoder.write(encoder.resp3 && (withScores || withAttributes) ? .map([]) : .array([]), into: &out)
            return
        }
        guard let vectors = index.vectors else { throw noVectors() }
        // With a filter, the best FILTER-EF candidates (default 100 per
        // wanted item, as Redis) are found first, then filtered.
        let candidates = filter == nil ? count : min(max(count, filterEf ?? count * 100), max(1, index.itemCount))
        if let element {
            guard let id = index.items.lookup(element), Int(id) < vectors.count, vectors.hasVector[Int(id)] else {
                throw CommandError(code: "NOTFOUND", message: "element not found in set: '\(Request.show(element))' has no vector")
            }
            options.k = max(1, candidates - 1)
            index.vectorSimilar(to: id, options: options, scratch: scratch)
            scratch.result.prepend(ids: [id], scores: [1])
        } else {
            guard scratch.requestVector.count == vectors.dimension else {
                throw .syntax("vector has \(scratch.requestVector.count) values; the set's vectors have \(vectors.dimension)")
            }
            options.k = candidates
            index.vectorRecommend(options: options, scratch: scratch)
        }
        var rows: [Reply] = []
        var pairs: [(Reply, Reply)] = []
        var taken = 0
        for x in 0..<scratch.result.count where taken < count {
            let score = (1 + Double(scratch.result.scores[x])) / 2
            if let epsilon, score < 1 - epsilon { continue }
            if let filter, !filter.matches({ itemField($0, scratch.result.ids[x], index) }) { continue }
            taken += 1
            let name = Reply.bulk(index.items.withName(scratch.result.ids[x]) { Array($0) })
            let scoreReply = Reply.double((score * 1e6).rounded() / 1e6)
            switch (withScores, withAttributes) {
            case (false, false): rows.append(name)
            case (true, false): pairs.append((name, scoreReply))
            case (false, true): pairs.append((name, .null))
            case (true, true):
                if encoder.resp3 { pairs.append((name, .array([scoreReply, .null]))) } else { rows += [name, scoreReply, .null] }
            }
        }
        // `rows` holds the plain members, or RESP2's triples when both are asked for; `pairs` the map otherwise.
        encoder.write(rows.isEmpty && (withScores || withAttributes) ? .map(pairs) : .array(rows), into: &out)
    }
}

extension CommandHandler {
    /// An item's catalog field as a filter value: `.category`, `.price`
    /// (missing when unknown), `.instock` (1 or 0), `.title`.
    func itemField(_ name: String, _ item: UInt32, _ index: RecIndex) -> VectorFilter.Value {
        let catalog = index.catalog, i = Int(item)
        guard i < catalog.count else { return .missing }
        switch name {
        case "category":
            let c = catalog.category[i]
            return c == Catalog.noCategory ? .missing : .string(catalog.categories.withName(c) { String(decoding: $0, as: UTF8.self) })
        case "price": return catalog.price[i].isNaN ? .missing : .number(Double(catalog.price[i]))
        case "instock": return .number(catalog.inStock[i] ? 1 : 0)
        case "title":
            let t = catalog.title(item)
            return t.isEmpty ? .missing : .string(t)
        default: return .missing
        }
    }

    /// The item's catalog fields as the JSON object VGETATTR answers.
    func attributesJSON(_ item: UInt32, _ index: RecIndex) -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        }
        var fields: [String] = []
        for name in ["category", "price", "instock", "title"] {
            switch itemField(name, item, index) {
            case .string(let s): fields.append("\(quoted(name)):\(quoted(s))")
            case .number(let n): fields.append("\(quoted(name)):\(n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))")
            default: break
            }
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// VCARD, VDIM, VEMB, VINFO, VISMEMBER, VGETATTR over the set `items`,
    /// answered as Redis 8 does (a set recd does not have is missing).
    func vectorSetRead(_ command: Command, _ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder,
                       _ out: inout [UInt8]) throws(CommandError) {
        let known = request[1].elementsEqual(VectorSetQuery.setName.utf8)
        let vectors = known ? index.vectors : nil
        func member() -> UInt32? {
            guard let vectors, let id = index.items.lookup(request[2]), Int(id) < vectors.count, vectors.hasVector[Int(id)] else { return nil }
            return id
        }
        switch command {
        case .vcard:
            encoder.integer(vectors.map { v in v.hasVector.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? 0, into: &out)
        case .vdim:
            guard let vectors else { throw CommandError(code: "NOTFOUND", message: "no vector set '\(Request.show(request[1]))' (recd's is 'items', and needs item vectors)") }
            encoder.integer(vectors.dimension, into: &out)
        case .vemb:
            guard let vectors, let id = member() else { encoder.null(into: &out); return }
            let row = (0..<vectors.dimension).map { Reply.double(Double(vectors.values[Int(id) * vectors.stride + $0])) }
            encoder.write(.array(row), into: &out)
        case .vinfo:
            guard let vectors else { encoder.null(into: &out); return }
            encoder.write(.fields([
                ("quant-type", .text("f32")), ("vector-dim", .integer(vectors.dimension)),
                ("size", .integer(vectors.hasVector.reduce(0) { $0 + ($1 ? 1 : 0) })),
                ("hnsw-m", .integer(index.config.hnswM)), ("search", .text(vectors.graphs.isEmpty ? "exact" : "hnsw")),
            ]), into: &out)
        case .vismember:
            encoder.integer(member() == nil ? 0 : 1, into: &out)
        case .vgetattr:
            guard let id = member() else { encoder.null(into: &out); return }
            encoder.write(.text(attributesJSON(id, index)), into: &out)
        default:
            break
        }
    }
}
