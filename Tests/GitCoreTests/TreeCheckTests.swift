import Foundation
@testable import GitCore
import Testing

/// `Repository.checkTree` on trees no honest git would write, built object by object.
@Suite struct TreeCheckTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-treecheck-\(UUID().uuidString)")

    func check(_ build: (Repository, _ blob: ObjectID) throws -> ObjectID) throws -> UnsafeTreeEntry? {
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try Repository.create(at: directory, bare: true)
        let blob = try repository.writeBlob(Array("content\n".utf8))
        let commit = try build(repository, blob)
        do {
            try repository.checkTree(ofCommit: commit)
            return nil
        } catch let error as UnsafeTreeEntry {
            return error
        }
    }

    func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func anHonestTreePasses() throws {
        let found = try check { repository, blob in
            let sub = try repository.writeUncheckedTree([("100644", name("part-1.bin"), blob)])
            let link = try repository.writeBlob(Array("config.json".utf8))
            return try repository.writeUncheckedCommit([("100644", name("README"), blob), ("100644", name("readme"), blob),
                                                        ("120000", name("latest"), link), ("40000", name("weights"), sub)])
        }
        #expect(found == nil, "\(String(describing: found))")
    }

    @Test func aLinkBesideADirectoryOfTheSameNameIsRefused() throws {
        // The attack of issue 23: `up -> ..` and `up/victim.rc` in one tree.
        let found = try check { repository, blob in
            let link = try repository.writeBlob(Array("..".utf8))
            let sub = try repository.writeUncheckedTree([("100644", name("victim.rc"), blob)])
            return try repository.writeUncheckedCommit([("120000", name("up"), link), ("40000", name("up"), sub)])
        }
        #expect(found?.path == "up" && found?.reason.contains("two entries") == true, "\(String(describing: found))")
    }

    @Test func dotGitDeepInTheTreeIsRefused() throws {
        let found = try check { repository, blob in
            let hooks = try repository.writeUncheckedTree([("100755", name("post-checkout"), blob)])
            let dotgit = try repository.writeUncheckedTree([("40000", name("hooks"), hooks)])
            let sub = try repository.writeUncheckedTree([("40000", name(".Git"), dotgit)])
            return try repository.writeUncheckedCommit([("40000", name("models"), sub)])
        }
        #expect(found?.path == "models/.Git" && found?.reason.contains(".git") == true, "\(String(describing: found))")
    }

    @Test func namesGitsFsckRefusesAreRefused() throws {
        for bad in [name(".."), name("."), name("a/b"), name("git~1"), name(".g\u{200C}it")] {
            let found = try check { repository, blob in
                try repository.writeUncheckedCommit([("100644", bad, blob)])
            }
            #expect(found != nil, "\(bad)")
        }
        let gitmodules = try check { repository, blob in
            try repository.writeUncheckedCommit([("120000", name(".gitmodules"), blob)])
        }
        #expect(gitmodules?.reason.contains("symbolic link") == true)
    }

    @Test func aLinkAndADirectoryThatFoldTogetherAreRefused() throws {
        let found = try check { repository, blob in
            let link = try repository.writeBlob(Array("/tmp".utf8))
            let sub = try repository.writeUncheckedTree([("100644", name("x.bin"), blob)])
            return try repository.writeUncheckedCommit([("120000", name("Models"), link), ("40000", name("models"), sub)])
        }
        #expect(found?.reason.contains("case-insensitive") == true, "\(String(describing: found))")
    }

    @Test func aDeepTreeIsWalkedWithoutRecursion() throws {
        let found = try check { repository, blob in
            var tree = try repository.writeUncheckedTree([("100644", name("leaf"), blob)])
            for _ in 0..<3000 { tree = try repository.writeUncheckedTree([("40000", name("d"), tree)]) }
            return try repository.writeUncheckedCommit([("40000", name("d"), tree)])
        }
        #expect(found?.reason.contains("longer than 4096") == true, "\(String(describing: found))")
    }
}
