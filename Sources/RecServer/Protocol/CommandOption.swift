import RecCore

/// The `name=value` options (and the bare `WITHMETA`) of the commands. The
/// command table declares which options each command takes; the syntax that
/// HELP, COMMAND DOCS, arity errors and the README's reference show is built
/// from that, and the parser refuses an option the command does not take,
/// listing the ones it does.
public enum CommandOption: Int, CaseIterable, Sendable {
    case k, category, instock, exclude, seen, ef, due, mode, exp, now, since, ts, qty, price, title, withMeta

    public var name: String {
        switch self {
        case .k: "k"
        case .category: "category"
        case .instock: "instock"
        case .exclude: "exclude"
        case .seen: "seen"
        case .ef: "ef"
        case .due: "due"
        case .mode: "mode"
        case .exp: "exp"
        case .now: "now"
        case .since: "since"
        case .ts: "ts"
        case .qty: "qty"
        case .price: "price"
        case .title: "title"
        case .withMeta: "WITHMETA"
        }
    }

    public var syntax: String {
        switch self {
        case .k: "[k=N]"
        case .category: "[category=C]"
        case .instock: "[instock=0|1]"
        case .exclude: "[exclude=a,b,...]"
        case .seen: "[seen=exclude|include]"
        case .ef: "[ef=N]"
        case .due: "[due=1]"
        case .mode: "[mode=cf|vec|hybrid]"
        case .exp: "[exp=NAME]"
        case .now: "[now=T]"
        case .since: "[since=days]"
        case .ts: "[ts=T]"
        case .qty: "[qty=N]"
        case .price: "[price=P]"
        case .title: "[title=T]"
        case .withMeta: "[WITHMETA]"
        }
    }

    var bit: UInt32 { 1 << UInt32(rawValue) }

    /// The filters every recommendation command takes, and WITHMETA.
    static let filters: [CommandOption] = [.k, .category, .instock, .exclude, .withMeta]

    /// Case-insensitive lookup of an option's name; no allocation.
    static func lookup(_ name: UnsafeBufferPointer<UInt8>) -> CommandOption? {
        switch name.count {
        case 1: return ByteParsing.equalsLowercase(name, "k") ? .k : nil
        case 2:
            if ByteParsing.equalsLowercase(name, "ef") { return .ef }
            return ByteParsing.equalsLowercase(name, "ts") ? .ts : nil
        case 3:
            if ByteParsing.equalsLowercase(name, "due") { return .due }
            if ByteParsing.equalsLowercase(name, "exp") { return .exp }
            if ByteParsing.equalsLowercase(name, "now") { return .now }
            return ByteParsing.equalsLowercase(name, "qty") ? .qty : nil
        case 4:
            if ByteParsing.equalsLowercase(name, "seen") { return .seen }
            return ByteParsing.equalsLowercase(name, "mode") ? .mode : nil
        case 5:
            if ByteParsing.equalsLowercase(name, "since") { return .since }
            if ByteParsing.equalsLowercase(name, "price") { return .price }
            return ByteParsing.equalsLowercase(name, "title") ? .title : nil
        case 7:
            if ByteParsing.equalsLowercase(name, "instock") { return .instock }
            return ByteParsing.equalsLowercase(name, "exclude") ? .exclude : nil
        case 8:
            if ByteParsing.equalsLowercase(name, "category") { return .category }
            return ByteParsing.equalsLowercase(name, "withmeta") ? .withMeta : nil
        default: return nil
        }
    }
}
