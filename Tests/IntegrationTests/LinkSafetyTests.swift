import Foundation
import Testing

/// Issue 23, class 1, on the LFS side: msgit writes LFS files itself, and nothing it writes goes
/// through a symbolic link, in the work tree or in a shared store. The scenarios are git-lfs
/// 3.7.1's for CVE-2025-26625 (t/t-pull.sh "skip directory symlink conflicts", "skip file symlink
/// conflicts", "break hard links to existing files"); git-lfs 3.3, the peer installed here, still
/// writes through the links, so the expectations are 3.7.1's.
@Suite struct LinkSafetyTests {
    let hub = Hub.shared

    /// A clone of `repo` with the LFS files left as pointers (`--no-lfs`).
    func pointerClone(_ repo: Fixtures.LFSRepo, _ label: String) throws -> String {
        let dir = Paths.scratch(label) + "/repo"
        let result = Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        return dir
    }

    func json(_ result: Shell.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
    }

    func failures(_ report: [String: Any]) -> [String: String] {
        let list = ((report["lfs"] as? [String: Any])?["failures"] as? [[String: Any]]) ?? []
        return Dictionary(list.compactMap { item in
            (item["path"] as? String).map { ($0, item["reason"] as? String ?? "") }
        }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aLinkInPlaceOfADirectoryIsNotFollowed() throws {
        let repo = try Fixtures.lfsModel("dirlink")
        let dir = try pointerClone(repo, "dirlink")
        // weights/ holds two LFS files; the user (or a tool) replaced it with a link elsewhere.
        let outside = Paths.scratch("dirlink-outside")
        try FileManager.default.removeItem(atPath: dir + "/weights")
        try FileManager.default.createSymbolicLink(atPath: dir + "/weights", withDestinationPath: outside)
        let pulled = Shell.msgit(["-C", dir, "lfs", "pull", "--json"], env: hub.env)
        #expect(pulled.status == 5, "\(pulled.output)")
        let failed = failures(try json(pulled))
        #expect(failed["weights/part-1.bin"]?.contains("not a directory") == true, "\(failed)")
        #expect(failed["weights/copy-of-part-1.bin"]?.contains("not a directory") == true, "\(failed)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [], "nothing written through the link")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/weights")) == outside, "the link stays")
        // The other files were resolved as usual.
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
    }

    @Test func aLinkInPlaceOfAPointerFileIsNotWrittenThrough() throws {
        let repo = try Fixtures.lfsModel("filelink")
        let dir = try pointerClone(repo, "filelink")
        // tokenizer.json is a link to a file outside holding the very same pointer text.
        let outside = Paths.scratch("filelink-outside") + "/victim.json"
        let pointerText = Files.read(dir + "/tokenizer.json")
        try Files.write(outside, pointerText)
        try FileManager.default.removeItem(atPath: dir + "/tokenizer.json")
        try FileManager.default.createSymbolicLink(atPath: dir + "/tokenizer.json", withDestinationPath: outside)
        // libgit2 resolves the link to find the file's attributes (realpath), so for it the link
        // is no LFS file at all and the pass leaves it out; were it in, the pass would refuse it
        // ("not a regular file", WorkTreeTests). Either way nothing goes through it.
        let pulled = Shell.msgit(["-C", dir, "lfs", "pull", "--json"], env: hub.env)
        #expect(pulled.status == 0 || pulled.status == 5, "\(pulled.output)")
        #expect(Files.read(outside) == pointerText, "the file the link points to is untouched")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/tokenizer.json")) == outside)
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
    }

    @Test func aHardLinkedPointerFileIsReplacedNotWrittenInto() throws {
        let repo = try Fixtures.lfsModel("hardlink")
        let dir = try pointerClone(repo, "hardlink")
        let outside = Paths.scratch("hardlink-outside") + "/link"
        try FileManager.default.linkItem(atPath: dir + "/tokenizer.json", toPath: outside)
        let pointerText = Files.read(outside)
        #expect(Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env).status == 0)
        #expect(Files.same(dir + "/tokenizer.json", repo.worktree + "/tokenizer.json"), "the file has its content")
        #expect(Files.read(outside) == pointerText, "the other name of the old inode still holds the pointer")
    }

    @Test func aLinkPlantedInASharedStoreIsNotFollowed() throws {
        // Whoever else can write to a shared store must not make msgit write where they choose.
        let repo = try Fixtures.lfsModel("storelink")
        let store = Paths.scratch("storelink-store")
        let outside = Paths.scratch("storelink-outside")
        let oid = try Fixtures.oid(of: "tokenizer.json", in: repo.worktree)
        try FileManager.default.createDirectory(atPath: store + "/objects/" + oid.prefix(2), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: store + "/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))",
                                                   withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: store + "/tmp", withDestinationPath: outside)
        let dir = Paths.scratch("storelink") + "/repo"
        let result = Shell.msgit(["clone", "--json", "--lfs-storage", store, repo.url, dir], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        #expect(failures(try json(result))["tokenizer.json"]?.contains("not a directory") == true, "\(result.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [], "nothing written through the links")
    }
}
