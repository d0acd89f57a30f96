import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A short-lived program run with `posix_spawn`: given its standard input whole, its standard
/// output and error collected up to a bound, and killed if it is still running at its deadline.
///
/// Not `Foundation.Process`, which can hang on Linux when started from Swift concurrency's
/// threads. The caller's thread blocks in `poll` until the program ends or its time is up.
///
/// The three standard streams are socket pairs rather than pipes: writing to a program that
/// exited without reading fails with `EPIPE` instead of raising `SIGPIPE` in this process, and
/// on Linux they are made close-on-exec atomically, so that no other thread's child inherits them.
/// The child starts with an empty signal mask and default dispositions (this process may ignore
/// `SIGINT` or `SIGPIPE`, and ignored signals are inherited), and no descriptor of this process
/// but its three standard ones.
///
/// The program runs in this process's group, as git runs its helpers, so that a helper may still
/// use the terminal. At the deadline it is sent `SIGKILL`; a grandchild it started (the `sleep`
/// of a shell snippet) is not, and may outlive it, though with its pipes closed.
package struct ChildProcess {
    package enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed at the deadline.
        case timedOut
    }

    package struct Outcome: Sendable {
        var termination: Termination
        /// Standard output, up to `outputLimit` bytes; empty unless asked for.
        var output: [UInt8]
        /// More than `outputLimit` bytes were written to standard output (they were drained).
        var outputTruncated: Bool
        /// The start of standard error, up to `errorLimit` bytes.
        var errorOutput: [UInt8]
    }

    /// The program could not be started; `errno` as the system said.
    package struct SpawnFailure: Error, Sendable {
        var code: Int32
        var message: String { String(cString: strerror(code)) }
    }

    /// Runs `arguments` (the first an absolute path, not looked up), with exactly `environment`.
    package static func run(_ arguments: [String], environment: [String: String], input: [UInt8], captureOutput: Bool = true,
                    timeout: Duration, outputLimit: Int = 1 << 16,
                    errorLimit: Int = 4096) throws(SpawnFailure) -> Outcome {
        var inputPair: [Int32] = [-1, -1]
        var outputPair: [Int32] = [-1, -1]
        var errorPair: [Int32] = [-1, -1]
        defer { for fd in inputPair + outputPair + errorPair where fd >= 0 { close(fd) } }
        guard makeSocketPair(&inputPair), makeSocketPair(&errorPair), !captureOutput || makeSocketPair(&outputPair) else {
            throw SpawnFailure(code: errno)
        }

        let pid = try spawn(arguments, environment: environment, stdin: inputPair[1],
                            stdout: captureOutput ? outputPair[1] : nil, stderr: errorPair[1])
        // The child's ends are the child's now; this process keeps its own, closed on return.
        for fd in [inputPair[1], outputPair[1], errorPair[1]] where fd >= 0 { close(fd) }
        var stdinFD = inputPair[0], stdoutFD = outputPair[0], stderrFD = errorPair[0]
        (inputPair, outputPair, errorPair) = ([-1, -1], [-1, -1], [-1, -1])
        defer { for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) } }
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var written = 0
        if input.isEmpty { shutdownAndClose(&stdinFD) }
        var output: [UInt8] = [], errorOutput: [UInt8] = []
        var truncated = false
        let deadline = ContinuousClock.now + timeout
        var termination: Termination?

        func drain(_ fd: inout Int32, into buffer: inout [UInt8], limit: Int, overflow: inout Bool) {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while fd >= 0 {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let room = max(0, limit - buffer.count)
                    buffer += chunk.prefix(min(room, count))
                    if count > room { overflow = true }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                    close(fd)
                    fd = -1
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    return
                }
            }
        }

        var ignoredOverflow = false
        while termination == nil {
            termination = reap(pid, blocking: false)
            if termination != nil { break }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                kill(pid, SIGKILL)
                _ = reap(pid, blocking: true)
                termination = .timedOut
                break
            }
            var fds: [pollfd] = []
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            // Wake at least every 50 ms to see whether the program ended: a daemon it started
            // (git credential-cache's) may hold its standard error open long after.
            let wait = Int32(min(50, max(1, Int(remaining / .milliseconds(1)))))
            _ = poll(&fds, nfds_t(fds.count), wait)
            if stdinFD >= 0 {
                let count = input[written...].withUnsafeBytes { sendWithoutSignal(stdinFD, $0.baseAddress, $0.count) }
                if count > 0 { written += count }
                if written == input.count || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    shutdownAndClose(&stdinFD)
                }
            }
            drain(&stdoutFD, into: &output, limit: outputLimit, overflow: &truncated)
            drain(&stderrFD, into: &errorOutput, limit: errorLimit, overflow: &ignoredOverflow)
        }
        if termination != .timedOut {
            // What the program wrote before it ended is in the pipes; what a program it left
            // behind writes later is not waited for.
            drain(&stdoutFD, into: &output, limit: outputLimit, overflow: &truncated)
            drain(&stderrFD, into: &errorOutput, limit: errorLimit, overflow: &ignoredOverflow)
        }
        return Outcome(termination: termination ?? .timedOut, output: output, outputTruncated: truncated,
                       errorOutput: errorOutput)
    }

    /// The status of `pid` once it has ended; nil while it runs (`blocking: false`).
    private static func reap(_ pid: pid_t, blocking: Bool) -> Termination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == 0 { return nil }
            if result < 0 {
                if errno == EINTR { continue }
                return .signalled(0)  // reaped elsewhere: nothing more to know
            }
            let signal = status & 0x7F
            return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
        }
    }

    private static func spawn(_ arguments: [String], environment: [String: String], stdin: Int32, stdout: Int32?,
                              stderr: Int32) throws(SpawnFailure) -> pid_t {
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        if let stdout {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        #if os(Linux)
        // Every other descriptor of this process (sockets, files of other operations) stays here.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        #else
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_CLOEXEC_DEFAULT))
        #endif

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnFailure(code: result) }
        return pid
    }

    #if os(Linux)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare; looked up once, nil on an older glibc.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #endif

    private static func makeSocketPair(_ fds: inout [Int32]) -> Bool {
        #if os(Linux)
        return socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
        #else
        guard socketpair(AF_UNIX, SOCK_STREAM, 0, &fds) == 0 else { return false }
        var on: Int32 = 1
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        return true
        #endif
    }

    private static func sendWithoutSignal(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
        #if os(Linux)
        return send(fd, bytes, count, Int32(MSG_NOSIGNAL))
        #else
        return send(fd, bytes, count, 0)
        #endif
    }

    /// Ends standard input: the program reads end of file.
    private static func shutdownAndClose(_ fd: inout Int32) {
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
        fd = -1
    }
}
