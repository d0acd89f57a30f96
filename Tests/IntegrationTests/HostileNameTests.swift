import Foundation
import Testing

/// Issue 23, class 3: names from the network never become paths outside where they belong. A
/// manifest (or a hub's listing it was made from) is outside input: its names are checked after
/// percent-decoding, mirrors are made only inside `--into` without following links, and the
/// clean-up after a failed first fetch removes only what that run made.
@Suite struct HostileNameTests {
    let hub = Hub.shared

    func mirror(_ entries: [String], into root: String, extra: [String] = []) throws -> (Shell.Result, [[String: Any]]) {
        let list = Paths.scratch("manifest") + "/repos.txt"
        try Files.write(list, entries.joined(separator: "\n") + "\n")
        let reportPath = Paths.scratch("report") + "/r.jsonl"
        let result = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--report", reportPath] + extra, env: hub.env)
        let lines = try Files.read(reportPath).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return (result, lines)
    }

    @Test func dotSegmentsHiddenByPercentEncodingLeadNowhere() throws {
        // <into>/<host>/ns/../../../escaped.git would be a sibling of --into.
        let base = Paths.scratch("escape")
        let root = base + "/mirrors"
        let (result, lines) = try mirror(["\(hub.url)/ns/..%2F..%2F..%2Fescaped"], into: root,
                                         extra: ["--push-to", "\(hub.other_url)/group/{ns}/{name}.git"])
        #expect(result.status == 1, "\(result.output)")
        #expect(lines.first?["error_kind"] as? String == "unsafePath", "\(lines)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).allSatisfy { $0 == "mirrors" }, "nothing beside --into")
        #expect(!result.output.contains(hub.token))
    }

    @Test func anEntryNamingARepositoryOutsideNeverTouchesIt() throws {
        let base = Paths.scratch("victim")
        let victim = base + "/victim.git"
        try Git.run(["init", "-q", "--bare", victim])
        try Git.run(["config", "remote.origin.url", "https://example.invalid/mine.git"], in: victim)
        let config = Files.read(victim + "/config")
        // An entry that answers 404 (the clean-up of a failed first fetch) and one that exists.
        let fixture = try Fixtures.standard("victim-src")
        let entries = ["\(hub.url)/ns/..%2F..%2F..%2Fvictim", "\(hub.url)/\(fixture.name.split(separator: "/")[0])/..%2F..%2F..%2Fvictim"]
        let (result, lines) = try mirror(entries, into: base + "/mirrors")
        #expect(result.status == 1, "\(result.output)")
        #expect(lines.count == 2 && lines.allSatisfy { $0["error_kind"] as? String == "unsafePath" }, "\(lines)")
        #expect(Files.read(victim + "/config") == config, "its remote was not rewritten")
        #expect(FileManager.default.fileExists(atPath: victim + "/HEAD"), "nor was it deleted")
    }

    @Test func aFailedFirstFetchRemovesOnlyWhatItMade() throws {
        let good = try Fixtures.standard("cleanup-good")
        let namespace = String(good.name.split(separator: "/")[0])
        let root = Paths.scratch("cleanup") + "/mirrors"
        // A directory of the user's at a mirror's place: refused, kept as it is.
        let port = URL(string: hub.url)!.port!
        let occupied = "\(root)/127.0.0.1_\(port)/\(namespace)/occupied.git"
        try Files.write(occupied + "/notes.txt", "mine\n")
        let missing = "\(hub.url)/\(namespace)/missing-\(UUID().uuidString.prefix(6).lowercased()).git"
        let (result, lines) = try mirror([good.url, missing, "\(hub.url)/\(namespace)/occupied.git"], into: root)
        #expect(result.status == 1, "\(result.output)")
        let byURL = Dictionary(lines.map { ($0["url"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byURL[good.url]?["status"] as? String == "ok", "\(lines)")
        #expect(byURL[missing]?["error_kind"] as? String == "notFound", "\(lines)")
        #expect(byURL["\(hub.url)/\(namespace)/occupied.git"]?["error_kind"] as? String == "unsafePath", "\(lines)")
        #expect(Files.read(occupied + "/notes.txt") == "mine\n")
        let namespaceDir = "\(root)/127.0.0.1_\(port)/\(namespace)"
        let left = try FileManager.default.contentsOfDirectory(atPath: namespaceDir).filter { !$0.hasSuffix(".msgit-lock") }
        #expect(Set(left) == [URL(fileURLWithPath: MirrorTests.mirrorPath(good.name, in: root)).lastPathComponent, "occupied.git"],
                "the failed mirror is gone, the rest stays: \(left)")
    }

    @Test func aLinkInsideIntoIsNotFollowed() throws {
        let base = Paths.scratch("intolink")
        let root = base + "/mirrors", outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let port = URL(string: hub.url)!.port!
        try FileManager.default.createSymbolicLink(atPath: "\(root)/127.0.0.1_\(port)", withDestinationPath: outside)
        let good = try Fixtures.standard("intolink")
        let (result, lines) = try mirror([good.url], into: root)
        #expect(result.status == 1, "\(result.output)")
        #expect(lines.first?["error_kind"] as? String == "unsafePath", "\(lines)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [])
    }

    @Test func aCloneIsNotNamedAfterADotSegment() throws {
        let parent = Paths.scratch("clonename") + "/work"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let result = Shell.msgit(["clone", "\(hub.url)/ns/..%2Fevil"], in: parent, env: hub.env)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("give the directory"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: (parent as NSString).deletingLastPathComponent) == ["work"])
    }
}
