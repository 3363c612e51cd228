import Glibc

/// Layer 0 of an HNSW graph packed for search: one block per node holding
/// its vector, then its link count and links, each block starting on a cache
/// line. Layer 0 is where a search spends nearly all its time; with the
/// vector and the links side by side, expanding a node touches one region
/// instead of a vector row, a count and a link list in three arrays, and no
/// node-to-item lookup stands between a link and its vector. The price is a
/// copy of the graph's vectors (the exact scan keeps the originals).
final class HNSWLevel0: @unchecked Sendable {  // immutable after init
    let base: UnsafeMutableRawPointer
    let nodes: Int
    /// Bytes of one vector (the index's padded stride).
    let vectorBytes: Int
    /// Bytes of one block: vector, UInt32 count, m0 UInt32 links, rounded up to 64.
    let blockBytes: Int
    /// Most links a node has.
    let maxDegree: Int

    init(vectors: VectorIndex, members: [UInt32], links0: [UInt32], count0: [UInt8], m0: Int) {
        nodes = members.count
        vectorBytes = vectors.stride * 4
        blockBytes = (vectorBytes + 4 + 4 * m0 + 63) & ~63
        maxDegree = m0
        var raw: UnsafeMutableRawPointer?
        // Not inside precondition: -Ounchecked builds do not evaluate its condition.
        let status = posix_memalign(&raw, 64, max(64, nodes * blockBytes))
        guard status == 0, let raw else { fatalError("HNSW: cannot allocate \(nodes * blockBytes) bytes for layer 0") }
        base = raw
        vectors.values.withUnsafeBytes { rows in
            for n in 0..<nodes {
                let block = base + n * blockBytes
                block.copyMemory(from: rows.baseAddress! + Int(members[n]) * vectorBytes, byteCount: vectorBytes)
                block.storeBytes(of: UInt32(count0[n]), toByteOffset: vectorBytes, as: UInt32.self)
                let links = (block + vectorBytes + 4).bindMemory(to: UInt32.self, capacity: m0)
                for x in 0..<m0 { links[x] = links0[n * m0 + x] }
            }
        }
    }

    deinit { free(base) }

    var memoryBytes: Int { nodes * blockBytes }

    @inline(__always)
    func vector(_ node: Int) -> UnsafeRawPointer { UnsafeRawPointer(base + node * blockBytes) }

    @inline(__always)
    func degree(_ node: Int) -> Int {
        Int((base + node * blockBytes + vectorBytes).load(as: UInt32.self))
    }

    @inline(__always)
    func links(_ node: Int) -> UnsafePointer<UInt32> {
        UnsafePointer((base + node * blockBytes + vectorBytes + 4).assumingMemoryBound(to: UInt32.self))
    }
}
