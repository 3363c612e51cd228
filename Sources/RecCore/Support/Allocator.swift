import CEpoll

/// Process-wide allocator policy for the executables (recd, recbench).
public enum Allocator {
    /// Serves blocks up to 32 MB from the heap and keeps freed memory for
    /// reuse, instead of glibc's default of an mmap per large block, unmapped
    /// again on free. A build allocates and frees tens of MB of columns and
    /// scratch arrays, and in a virtual machine every first touch of a fresh
    /// page is a costly fault (~2.5 µs per 4 KB measured here): reusing the
    /// freed blocks took the Online Retail build from ~0.12 to ~0.11 s.
    /// The daemon returns memory after each build (`returnFreedMemory`), so
    /// the kept memory does not pile up. Call once, first thing.
    @discardableResult
    public static func reuseFreedMemory() -> Bool { crecd_malloc_reuse_large() == 1 }

    /// Hands the heap's free memory back to the kernel. After a build its
    /// transient arrays (parse buffers, co-occurrence rows) are freed, but
    /// glibc keeps them (more so under `reuseFreedMemory`), and the RSS of a
    /// daemon that reloads nightly would ratchet up to the build's peak.
    public static func returnFreedMemory() { _ = crecd_malloc_trim() }
}
