/// Chosen per connection by its first byte: `*` is RESP, anything else the
/// line dialect. Requests of either shape are accepted afterwards; the
/// dialect decides how replies are written.
public enum Dialect: Sendable, Equatable {
    case resp
    case line

    public static func detect(firstByte: UInt8) -> Dialect {
        firstByte == UInt8(ascii: "*") ? .resp : .line
    }
}
