import Synchronization

/// What a connection has told recd about itself, and what it is in the
/// middle of: the protocol HELLO chose, authentication, its name, a queued
/// transaction. Owned by the connection's loop; the parts other connections
/// may ask about (CLIENT LIST, CLIENT KILL) are published in its `record`.
struct ClientState {
    let record: ClientRecord
    var authenticated: Bool
    /// RESP3 after `HELLO 3`.
    var resp3 = false
    /// Commands queued since MULTI (each its arguments' bytes), nil outside a transaction.
    var queued: [[[UInt8]]]?
    /// A command was refused while queueing: EXEC answers EXECABORT.
    var transactionFailed = false
    /// READONLY: per-user reads may be served by a replica of their slot.
    var readOnly = false
    /// A primary's replication link (`CLUSTER REPLICATING`): its writes
    /// are applied here whatever the slot, and not forwarded again.
    var replicationLink = false
    /// A primary's catch-up link: an EVENT this node already has came in
    /// the batch that may have reached it before it went silent.
    var catchingUp = false

    init(record: ClientRecord, authenticated: Bool) {
        self.record = record
        self.authenticated = authenticated
    }
}

/// One connection as the others see it. Written by its own loop, read by
/// any (CLIENT LIST); a kill is requested here and carried out by the owner.
final class ClientRecord: Sendable {
    let id: UInt64
    let address: String
    let localAddress: String
    let fd: Int32
    let connectedAt: Int
    /// Monotonic seconds of the last command.
    let lastActive: Atomic<Int>
    /// The last command's `Command` raw value, -1 before the first.
    let lastCommand = Atomic<Int>(-1)
    let resp3 = Atomic<Bool>(false)
    let multi = Atomic<Int>(-1)
    struct Names {
        var name = ""
        var libName = ""
        var libVersion = ""
    }
    let names = Mutex(Names())
    /// The loop that owns the connection, for CLIENT KILL.
    weak let owner: EventLoop?
    let serial: UInt64

    init(id: UInt64, address: String, localAddress: String, fd: Int32, serial: UInt64, now: Int, owner: EventLoop?) {
        self.id = id
        self.address = address
        self.localAddress = localAddress
        self.fd = fd
        self.serial = serial
        self.connectedAt = now
        self.lastActive = Atomic(now)
        self.owner = owner
    }

    /// A `CLIENT LIST` line, as Redis writes it (fields clients parse).
    func listLine(now: Int) -> String {
        let n = names.withLock { $0 }
        let command = lastCommand.load(ordering: .relaxed)
        let cmd = command >= 0 ? Command.allCases[command].spec.name.lowercased() : "NULL"
        let queued = multi.load(ordering: .relaxed)
        return "id=\(id) addr=\(address) laddr=\(localAddress) fd=\(fd) name=\(n.name) age=\(now - connectedAt) "
            + "idle=\(now - lastActive.load(ordering: .relaxed)) flags=\(queued >= 0 ? "x" : "N") db=0 sub=0 psub=0 ssub=0 "
            + "multi=\(queued) watch=0 cmd=\(cmd) user=default resp=\(resp3.load(ordering: .relaxed) ? 3 : 2) "
            + "lib-name=\(n.libName) lib-ver=\(n.libVersion)"
    }
}

/// Every open connection by id, shared by the loops: CLIENT LIST reads it,
/// CLIENT KILL finds its target in it. Touched at connect and close only.
final class ClientRegistry: Sendable {
    private let clients = Mutex<[UInt64: ClientRecord]>([:])
    private let nextId = Atomic<UInt64>(0)

    func newId() -> UInt64 { nextId.add(1, ordering: .relaxed).newValue }

    func add(_ r: ClientRecord) { clients.withLock { $0[r.id] = r } }

    func remove(_ id: UInt64) { clients.withLock { _ = $0.removeValue(forKey: id) } }

    var all: [ClientRecord] { clients.withLock { Array($0.values) }.sorted { $0.id < $1.id } }

    func find(_ id: UInt64) -> ClientRecord? { clients.withLock { $0[id] } }
}
