#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files into one byte array: snapshot files are parsed in
/// place, so there is nothing to gain from streaming them line by line.
public enum FileBytes {
    public enum Failure: Error, Sendable, Equatable {
        case notFound(path: String)
        case unreadable(path: String, errno: Int32)
    }

    /// Opens `path` read-only and reads its status; a directory is refused.
    /// The caller closes the descriptor.
    public static func open(_ path: String) throws(Failure) -> (fd: Int32, status: stat) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            throw e == ENOENT ? .notFound(path: path) : .unreadable(path: path, errno: e)
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw .unreadable(path: path, errno: e)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .unreadable(path: path, errno: EISDIR)
        }
        return (fd, st)
    }

    /// Reads `range` of the file into `into` with pread (so threads can
    /// share the descriptor); returns how much it got, short only when the
    /// file ended (shrank) or a read failed, whose errno goes to `failure`.
    public static func read(_ fd: Int32, _ range: Range<Int>, into: UnsafeMutablePointer<UInt8>, failure: inout Int32) -> Int {
        var done = 0
        while done < range.count {
            let n = pread(fd, into + done, range.count - done, off_t(range.lowerBound + done))
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        let (fd, st) = try open(path)
        defer { close(fd) }
        if st.st_size > 0 {
            // Filled straight by the read: zeroing first added a pass over
            // the whole size before the copy.
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: Int(st.st_size)) { buffer, count in
                count = read(fd, 0..<buffer.count, into: buffer.baseAddress!, failure: &failure)
            }
            if failure != 0 { throw .unreadable(path: path, errno: failure) }
            return bytes
        }
        // /proc and pipes report size 0: read those in chunks until EOF.
        var bytes = [UInt8](repeating: 0, count: 4096)
        var filled = 0
        var failure: Int32 = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if n == 0 { break }
            filled += n
        }
        if failure != 0 { throw .unreadable(path: path, errno: failure) }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
