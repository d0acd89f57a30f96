import Crypto
import Foundation
import Testing
@testable import LFS

/// Placing LFS files never writes through a symbolic link (issue 23; git-lfs's CVE-2025-26625).
@Suite struct WorkTreeTests {
    /// A work tree at `<scratch>/repo` with its store, an object of `content` in the store, and
    /// its pointer; `outside` is a sibling directory the tree must never write into.
    struct Setup {
        var root: String
        var outside: String
        var workTree: WorkTree
        var pointer: Pointer
    }

    func setup(_ content: String = "weights\n") throws -> Setup {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-worktree-\(UUID().uuidString)").path
        let root = base + "/repo", outside = base + "/outside"
        for dir in [root, outside] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let store = ObjectStore(root: URL(fileURLWithPath: root + "/.git/lfs"))
        let data = Data(content.utf8)
        let pointer = try #require(Pointer(oid: SHA256.hash(data: data).hexString, size: Int64(data.count)))
        let (scratch, fd) = try store.createScratch("object")
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try store.insert(scratch.name, in: scratch.directory, for: pointer)
        return Setup(root: root, outside: outside, workTree: WorkTree(root: URL(fileURLWithPath: root), store: store),
                     pointer: pointer)
    }

    func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aPointerFileGetsItsContent() throws {
        let s = try setup()
        try FileManager.default.createDirectory(atPath: s.root + "/weights", withIntermediateDirectories: true)
        try s.pointer.data.write(to: URL(fileURLWithPath: s.root + "/weights/a.bin"))
        let file = LFSFile(path: "weights/a.bin", pointer: s.pointer)
        #expect(s.workTree.state(of: file) == .pointer)
        try s.workTree.materialize(file)
        #expect(contents(s.root + "/weights/a.bin") == "weights\n")
        #expect(s.workTree.state(of: file) == .resolved)
    }

    @Test func aLinkAsALeadingDirectoryIsRefused() throws {
        let s = try setup()
        try s.pointer.data.write(to: URL(fileURLWithPath: s.outside + "/a.bin"))
        try FileManager.default.createSymbolicLink(atPath: s.root + "/weights", withDestinationPath: s.outside)
        let file = LFSFile(path: "weights/a.bin", pointer: s.pointer)
        guard case .unsafe(let reason) = s.workTree.state(of: file) else {
            Issue.record("a path through a link is not .unsafe")
            return
        }
        #expect(reason.contains("not a directory"), "\(reason)")
        #expect(throws: LFSError.self) { try s.workTree.materialize(file) }
        #expect(contents(s.outside + "/a.bin") == s.pointer.text, "nothing written through the link")
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.outside) == ["a.bin"], "no temporary file either")
    }

    @Test func aLinkAtTheFilesOwnPathIsRefused() throws {
        let s = try setup()
        try s.pointer.data.write(to: URL(fileURLWithPath: s.outside + "/victim"))
        try FileManager.default.createSymbolicLink(atPath: s.root + "/a.bin", withDestinationPath: s.outside + "/victim")
        let file = LFSFile(path: "a.bin", pointer: s.pointer)
        guard case .unsafe(let reason) = s.workTree.state(of: file) else {
            Issue.record("a link is not .unsafe")
            return
        }
        #expect(reason.contains("not a regular file"), "\(reason)")
        #expect(throws: LFSError.self) { try s.workTree.materialize(file) }
        #expect(contents(s.outside + "/victim") == s.pointer.text)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: s.root + "/a.bin")) == s.outside + "/victim")
    }

    @Test func pathsThatLeaveTheWorkTreeAreRefused() throws {
        let s = try setup()
        for path in ["../outside/a.bin", "/etc/passwd", ".git/config", "a/./b", "sub/.GIT/x"] {
            #expect(throws: LFSError.self, "\(path)") { try s.workTree.materialize(LFSFile(path: path, pointer: s.pointer)) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.outside) == [])
    }

    @Test func unprotectDoesNotFollowALink() throws {
        let s = try setup()
        try "mine\n".write(toFile: s.outside + "/victim", atomically: false, encoding: .utf8)
        try FileManager.default.linkItem(atPath: s.outside + "/victim", toPath: s.outside + "/second-name")
        try FileManager.default.createSymbolicLink(atPath: s.root + "/a.bin", withDestinationPath: s.outside + "/victim")
        #expect(try s.workTree.unprotect("a.bin") == false, "a link is not a protected file")
        #expect(contents(s.outside + "/victim") == "mine\n")
        let st = try FileManager.default.attributesOfItem(atPath: s.outside + "/victim")
        #expect((st[.referenceCount] as? NSNumber)?.intValue == 2, "the outside file keeps both its names")
    }
}
