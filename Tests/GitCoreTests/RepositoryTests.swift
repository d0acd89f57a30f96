import Foundation
import GitCore
import Testing

/// GitCore on local repositories: no network, no hub.
@Suite struct RepositoryTests {
    func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("msgit-gitcore-\(UUID().uuidString)")
    }

    @Test func aCommitWithoutAWorkTreeHoldsItsFilesAndParent() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try Repository.create(at: directory, bare: true)
        let first = try repository.commit(files: [CommitFile(path: "a.txt", content: .data(Data("a\n".utf8)))],
                                          parent: nil, message: "First", author: ("Tester", "t@example.com"))
        let second = try repository.commit(
            files: [CommitFile(path: "dir/run.sh", executable: true, content: .data(Data("#!/bin/sh\n".utf8)))],
            parent: first, message: "Second", author: ("Tester", "t@example.com"))
        #expect(repository.fileContent("a.txt", in: second) == Data("a\n".utf8), "the parent's files are kept")
        #expect(repository.fileContent("dir/run.sh", in: second) == Data("#!/bin/sh\n".utf8))
        #expect(repository.fileContent("dir/run.sh", in: first) == nil)
        #expect(repository.isAncestor(first, of: second) && !repository.isAncestor(second, of: first))
        var modes: [String: UInt32] = [:]
        try repository.walkFiles(ofCommit: second, contentLimit: 1024) { blob, _ in modes[blob.path] = blob.mode }
        #expect(modes == ["a.txt": 0o100644, "dir/run.sh": 0o100755])
    }

    @Test func referencesAndHead() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try Repository.create(at: directory, bare: true, initialBranch: "main")
        #expect(repository.headReferenceName == "refs/heads/main")
        #expect(repository.commit(for: "HEAD") == nil, "an unborn branch")
        let commit = try repository.commit(files: [CommitFile(path: "x", content: .data(Data()))], parent: nil,
                                           message: "X", author: ("Tester", "t@example.com"))
        try repository.createReference("refs/heads/main", target: commit, force: false, message: "test")
        #expect(repository.commit(for: "HEAD") == commit && repository.resolve("refs/heads/main") == commit)
        #expect(try repository.references(matching: "refs/heads/*").map(\.name) == ["refs/heads/main"])
        try repository.setHeadDetached(commit)
        #expect(repository.headReferenceName == nil)
    }

    @Test func libgit2ErrorsCarryTheirFunctionAndMessage() {
        #expect {
            _ = try Repository.open(at: URL(fileURLWithPath: "/nonexistent/msgit-\(UUID().uuidString)"))
        } throws: { error in
            guard let error = error as? GitError else { return false }
            return error.function == "git_repository_open_ext" && error.code == .notFound && !error.message.isEmpty
        }
    }
}

@Suite struct RefspecAndObjectIDTests {
    @Test func refspecsAsLibgit2ParsesThem() throws {
        let spec = try #require(Refspec("+refs/heads/main:refs/remotes/origin/main", fetch: true))
        #expect(spec.force && spec.source == "refs/heads/main" && spec.destination == "refs/remotes/origin/main")
        #expect(spec.string == "+refs/heads/main:refs/remotes/origin/main")
        #expect(Refspec(":refs/heads/old", fetch: false)?.source == "")
    }

    @Test func objectIDs() {
        let hex = String(repeating: "ab", count: 20)
        #expect(ObjectID(hex: hex)?.hex == hex)
        #expect(ObjectID(hex: hex.uppercased())?.hex == hex)
        #expect(ObjectID(hex: "abc") == nil && ObjectID(hex: String(repeating: "g", count: 40)) == nil)
        #expect(ObjectID(hex: String(repeating: "0", count: 40))?.isZero == true)
    }
}
