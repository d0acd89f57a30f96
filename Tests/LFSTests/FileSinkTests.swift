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
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        let copy = open(dir + "/copy", O_RDWR | O_CREAT, 0o644)
        defer { close(fd); close(copy) }
        let sink = FileSink(fd: fd, copy: copy, name: "object", offset: 4, length: 6, hashing: true)
        try sink.write(Data("abc".utf8))
        try sink.write(Data("def".utf8))
        sink.close()
        let (written, digest) = sink.result
        #expect(written == 6)
        #expect(digest == SHA256.hash(data: Data("abcdef".utf8)).hexString)
        for path in [dir + "/object", dir + "/copy"] {
            #expect(FileManager.default.contents(atPath: path) == Data([0, 0, 0, 0]) + Data("abcdef".utf8))
        }
    }

    @Test func moreThanAskedForIsAnIntegrityErrorAndNothingPastTheRangeIsWritten() throws {
        let dir = Self.scratch()
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let sink = FileSink(fd: fd, name: "object", offset: 0, length: 4, hashing: false)
        try sink.write(Data("abc".utf8))
        #expect(throws: LFSError.self) { try sink.write(Data("de".utf8)) }
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data("abc".utf8))
    }

    @Test func aClosedSinkWritesNothing() throws {
        let dir = Self.scratch()
        let fd = open(dir + "/object", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let sink = FileSink(fd: fd, name: "object", offset: 0, length: 10, hashing: false)
        sink.close()
        try sink.write(Data("late".utf8))  // a chunk delivered after the downloader moved on
        #expect(FileManager.default.contents(atPath: dir + "/object") == Data())
        #expect(sink.result.written == 0)
    }

    @Test func theRecordedPrefixWinsOverTheFileSize() throws {
        let partial = URL(fileURLWithPath: Self.scratch() + "/oid.part")
        #expect(PartialFile.prefix(partial, size: 100) == 0, "no file: start from nothing")
        #expect(FileManager.default.createFile(atPath: partial.path, contents: Data(count: 60)))
        #expect(PartialFile.prefix(partial, size: 100) == 60, "no record: the file is a prefix")
        try PartialFile.record(40, for: partial)
        #expect(PartialFile.prefix(partial, size: 100) == 40, "segments past the prefix do not count")
        try PartialFile.record(80, for: partial)
        #expect(PartialFile.prefix(partial, size: 100) == 0, "a record past the file's end is not trusted")
        PartialFile.remove(partial)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(!FileManager.default.fileExists(atPath: partial.path + ".length"))
    }
}
