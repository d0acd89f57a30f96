import Crypto
import Foundation
import Synchronization

/// Where a streamed body goes: `length` bytes at `offset` of an open file (and of a second one,
/// a `DownloadCopy`, when given), hashed on the way when asked. Written on the session's delegate
/// queue, read by the downloader.
///
/// URLSession hands bodies over in libcurl's 16 KiB reads; the sink gathers them and writes
/// `bufferSize` bytes at a time. On Linux 6.x ext4 puts a large write into large page-cache folios:
/// 1 GiB written in 256 KiB calls costs about half the system time of the same in 16 KiB calls,
/// and every object is written twice. `finish` writes what is gathered; `close` drops it (the
/// downloader has stopped and keeps only a verified prefix) and makes every later write a no-op,
/// so a late chunk never lands in a file the downloader has moved on from.
final class FileSink: Sendable {
    static let bufferSize = 256 << 10

    private struct State: ~Copyable {
        var open = true
        /// Bytes received; those past `flushed` are in `buffer`.
        var written: Int64 = 0
        var flushed: Int64 = 0
        var hasher: SHA256?
        /// Mapped rather than malloc'ed, so that releasing it gives its pages back at once.
        var buffer: UnsafeMutableRawBufferPointer?
        /// A closed sink keeps no buffer: the downloader holds every sink of an object to the end,
        /// and keeping their buffers made a 1 GiB pull 50-60 MiB larger.
        mutating func release() {
            if let buffer { munmap(buffer.baseAddress, buffer.count) }
            buffer = nil
        }
        deinit { if let buffer { munmap(buffer.baseAddress, buffer.count) } }
    }
    private let state: Mutex<State>
    private let fd: Int32
    /// A second file that gets the same bytes at the same offsets (a `DownloadCopy`).
    private let copy: Int32?
    private let name: String
    private let offset: Int64
    let length: Int64
    private let hashing: Bool

    init(fd: Int32, copy: Int32? = nil, name: String, offset: Int64, length: Int64, hashing: Bool) {
        self.fd = fd
        self.copy = copy
        self.name = name
        self.offset = offset
        self.length = length
        self.hashing = hashing
        state = Mutex(State(hasher: hashing ? SHA256() : nil))
    }

    /// Starts over (a retried request): what was gathered is dropped, and the file is written
    /// from `offset` again.
    func reset() {
        state.withLock { s in
            s.written = 0
            s.flushed = 0
            s.hasher = hashing ? SHA256() : nil
        }
    }

    func write(_ data: Data) throws {
        try state.withLock { s in
            guard s.open else { return }
            guard s.written + Int64(data.count) <= length else {
                throw LFSError(.integrity, "the storage server sent more than the \(length) bytes asked for: discarded")
            }
            try data.withUnsafeBytes { bytes in
                s.hasher?.update(bufferPointer: bytes)
                let capacity = Int(min(Int64(Self.bufferSize), length))
                if Int(s.written - s.flushed) + bytes.count > capacity { try flush(&s) }
                if bytes.count >= capacity {
                    try write(bytes, at: s.flushed)
                    s.written += Int64(bytes.count)
                    s.flushed = s.written
                    return
                }
                if s.buffer == nil {
                    let mapped = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                    guard let mapped, mapped != MAP_FAILED else {
                        throw LFSError(.io, "cannot map a \(capacity)-byte write buffer: \(String(cString: strerror(errno)))")
                    }
                    s.buffer = UnsafeMutableRawBufferPointer(start: mapped, count: capacity)
                }
                s.buffer!.baseAddress!.advanced(by: Int(s.written - s.flushed))
                    .copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                s.written += Int64(bytes.count)
                if s.written - s.flushed == capacity { try flush(&s) }
            }
        }
    }

    /// Writes what is gathered and closes the sink. Call when the body has ended.
    func finish() throws {
        try state.withLock { s in
            guard s.open else { return }
            s.open = false
            defer { s.release() }
            try flush(&s)
        }
    }

    /// Closes the sink without writing what is gathered; later writes are no-ops.
    func close() {
        state.withLock { s in
            s.open = false
            s.release()
        }
    }

    private func flush(_ s: inout State) throws {
        let pending = Int(s.written - s.flushed)
        guard pending > 0, let buffer = s.buffer else { return }
        try write(UnsafeRawBufferPointer(rebasing: buffer[..<pending]), at: s.flushed)
        s.flushed = s.written
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws {
        let at = off_t(offset + position)
        try Self.write(bytes, to: fd, at: at, name: name)
        if let copy { try Self.write(bytes, to: copy, at: at, name: name + " (its copy)") }
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: off_t, name: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, offset + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LFSError(.io, "cannot write \(name): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Bytes received so far (written, or gathered to be written by `finish`).
    var written: Int64 { state.withLock { $0.written } }

    /// Bytes received, and their SHA-256 when hashing (call after `finish`).
    var result: (written: Int64, digest: String?) {
        state.withLock { s in (s.written, s.hasher.map { $0.finalize().hexString }) }
    }
}
