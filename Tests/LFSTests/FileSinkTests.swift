import Crypto
import Foundation
import Testing
@testable import LFS

/// Where streamed download bytes go, and the resume record of a segmented download.
@Suite struct FileSinkTests {
    static func scratch() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-sink-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesAtItsOffsetToBothFilesAndHashesWhatItWrote() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        let copy = open(dir + "/copy", O_RDWR | O_CREAT, 0o644)
        defer { close(fd); close(copy) }
        let sink = FileSink(fd: fd, copy: copy, name: "object", offset: 4, length: 6, hashing: true)
        try sink.write(Data("abc".utf8))
        try sink.write(Data("def".utf8))
        try sink.finish()
        let (written, digest) = sink.result
        #expect(written == 6)
        #expect(digest == SHA256.hash(data: Data("abcdef".utf8)).hexString)
        for path in [dir + "/object", dir + "/copy"] {
            #expect(FileManager.default.contents(atPath: path) == Data([0, 0, 0, 0]) + Data("abcdef".utf8))
        }
    }

    @Test func moreThanAskedForIsAnIntegrityErrorAndNothingPastTheRangeIsWritten() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let sink = FileSink(fd: fd, name: "object", offset: 0, length: 4, hashing: false)
        try sink.write(Data("abc".utf8))
        #expect(throws: LFSError.self) { try sink.write(Data("de".utf8)) }
        try sink.finish()
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data("abc".utf8))
    }

    @Test func aClosedSinkWritesNothing() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let sink = FileSink(fd: fd, name: "object", offset: 0, length: 10, hashing: false)
        sink.close()
        try sink.write(Data("late".utf8))  // a chunk delivered after the downloader moved on
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data())
        #expect(sink.result.written == 0)
    }

    /// Bodies arrive in 16 KiB chunks and are written in `bufferSize` runs; chunks that straddle a
    /// run, chunks larger than a run, and a retry that starts over must still put every byte at its
    /// offset in both files.
    @Test func gatheredWritesLandAtTheirOffsetsInBothFiles() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        let copy = open(dir + "/copy", O_RDWR | O_CREAT, 0o644)
        defer { close(fd); close(copy) }
        var generator = SystemRandomNumberGenerator()
        let body = Data((0..<(3 * FileSink.bufferSize + 12_345)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let offset = 1000
        let sink = FileSink(fd: fd, copy: copy, name: "object", offset: Int64(offset), length: Int64(body.count),
                            hashing: true)
        // A first attempt that breaks off after a while, then a retry of the whole body.
        try sink.write(body.prefix(FileSink.bufferSize + 77))
        sink.reset()
        var at = 0
        for size in [16_384, 5, FileSink.bufferSize + 3, 16_384, 1, 2 * FileSink.bufferSize] where at < body.count {
            let end = min(at + size, body.count)
            try sink.write(body[at..<end])
            at = end
        }
        try sink.write(body[at...])
        #expect(sink.written == Int64(body.count))
        try sink.finish()
        try sink.write(Data("late".utf8))
        #expect(sink.result.digest == SHA256.hash(data: body).hexString)
        for path in [dir + "/object", dir + "/copy"] {
            let file = FileManager.default.contents(atPath: path) ?? Data()
            #expect(file.count == offset + body.count, "\(path)")
            #expect(file.dropFirst(offset) == body, "\(path)")
        }
    }

    @Test func closingDropsWhatWasGatheredAndFinishingWritesIt() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let stopped = FileSink(fd: fd, name: "object", offset: 0, length: 10, hashing: false)
        try stopped.write(Data("abc".utf8))
        stopped.close()
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data())
        let finished = FileSink(fd: fd, name: "object", offset: 0, length: 10, hashing: false)
        try finished.write(Data("abc".utf8))
        try finished.finish()
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data("abc".utf8))
    }

    @Test func theRecordedPrefixWinsOverTheFileSize() throws {
        let store = ObjectStore(root: URL(fileURLWithPath: Self.scratch() + "/lfs"))
        let oid = String(repeating: "ab", count: 32)
        let partial = try PartialFile(oid, in: store)
        #expect(partial.prefix(size: 100) == 0, "no file: start from nothing")
        #expect(FileManager.default.createFile(atPath: partial.url.path, contents: Data(count: 60)))
        #expect(partial.prefix(size: 100) == 60, "no record: the file is a prefix")
        try partial.record(40)
        #expect(partial.prefix(size: 100) == 40, "segments past the prefix do not count")
        try partial.record(80)
        #expect(partial.prefix(size: 100) == 0, "a record past the file's end is not trusted")
        partial.remove()
        #expect(!FileManager.default.fileExists(atPath: partial.url.path))
        #expect(!FileManager.default.fileExists(atPath: partial.url.path + ".length"))
    }

    @Test func aPartialFilePlantedAsALinkIsNeverWrittenThrough() throws {
        // Whoever can write to a shared store must not make msgit truncate or write another file.
        let dir = Self.scratch()
        let store = ObjectStore(root: URL(fileURLWithPath: dir + "/lfs"))
        let victim = dir + "/victim"
        #expect(FileManager.default.createFile(atPath: victim, contents: Data("keep me".utf8)))
        let oid = String(repeating: "cd", count: 32)
        let partial = try PartialFile(oid, in: store)
        try FileManager.default.createSymbolicLink(atPath: partial.url.path, withDestinationPath: victim)
        #expect(throws: LFSError.self) { _ = try partial.open() }
        #expect(partial.size == nil && partial.prefix(size: 100) == 0)
        // A link in place of the store's incomplete/ directory is refused the same way.
        try FileManager.default.removeItem(atPath: dir + "/lfs/incomplete")
        try FileManager.default.createSymbolicLink(atPath: dir + "/lfs/incomplete", withDestinationPath: dir)
        #expect(throws: LFSError.self) { _ = try PartialFile(oid, in: store) }
        #expect(FileManager.default.contents(atPath: victim) == Data("keep me".utf8))
    }
}
