#if canImport(Glibc)
import Glibc
#endif

/// Threads for index builds, made fresh rather than borrowed from
/// Dispatch's pool.
///
/// Why: a Linux thread inherits its creator's scheduling policy and nice
/// value, and both are per thread. A build started with `belowServing` runs
/// every worker it spawns under SCHED_IDLE at nice +10, so a RELOAD, a SAVE
/// or the background tuning stage can use every core and still yield each
/// one the moment a request needs it (a waking event loop preempts an idle
/// policy thread at once). Nice alone was not enough: REC's p99 during
/// tuning doubled. Dispatch's workers would not inherit either, and
/// lowering one of them would be permanent (an unprivileged thread cannot
/// raise its priority back).
public enum BuildThreads {
    /// How far below the caller builds that run while serving go: nice +10
    /// is weight 110 against the event loops' 1024, so a busy loop keeps
    /// about 90% of a core it shares with a build.
    public static let servingNice: Int32 = 10

    /// Runs `body(0..<count)` on `count` threads, the caller being one, and
    /// waits for all.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else { body(0); return }
        withoutActuallyEscaping(body) { body in
            let shared = Unchecked(body)
            let threads = (1..<count).map { t in start { shared.value(t) } }
            shared.value(0)
            for thread in threads { join(thread) }
        }
    }

    /// Runs `body` on a new thread `servingNice` below the caller, and
    /// waits for it: the build inside, and every thread it starts here, stay
    /// below the threads that serve.
    public static func belowServing<T>(_ body: () -> T) -> T {
        withoutActuallyEscaping(body) { body in
            let result = Unchecked<T?>(nil)
            let shared = Unchecked(body)
            let nice = min(19, currentNice + servingNice)
            join(start {
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                var param = sched_param(sched_priority: 0)
                _ = sched_setscheduler(0, schedIdle, &param)
                result.value = shared.value()
            })
            return result.value!
        }
    }

    /// A build thread running beside the caller's own work.
    public final class Running {
        fileprivate let thread: pthread_t
        fileprivate init(thread: pthread_t) { self.thread = thread }
        /// Waits for the thread to finish; call once.
        public func join() { BuildThreads.join(thread) }
    }

    /// Starts `body` on a thread of its own; `join` the result.
    public static func spawn(_ body: @escaping @Sendable () -> Void) -> Running {
        Running(thread: start(body))
    }

    /// Linux's SCHED_IDLE, which Glibc's module does not import.
    static let schedIdle: Int32 = 5

    /// The nice value of the calling thread.
    public static var currentNice: Int32 {
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    private static func start(_ body: @escaping () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(Unchecked(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Unchecked<() -> Void>>.fromOpaque(raw!).takeRetainedValue()
            box.value()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    fileprivate static func join(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}

/// A value handed to build threads that the caller keeps alive and waits
/// for; each thread touches only its own part of it.
private final class Unchecked<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
