/// Redis Cluster's key to slot mapping, so that every cluster client routes
/// recd's keys as it routes Redis's: CRC16 (XMODEM) of the key, or of its
/// `{hash tag}` when the key has a non-empty one, mod 16384.
public enum KeySlot {
    public static let count = 16384

    public static func of(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var start = 0, end = key.count
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
           let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            start = open + 1
            end = close
        }
        var crc: UInt16 = 0
        for i in start..<end {
            crc ^= UInt16(key[i]) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) % count
    }

    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of($0) }
    }
}
