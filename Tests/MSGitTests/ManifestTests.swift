import Foundation
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct ManifestTests {
    @Test func linesCommentsAndBaseURL() {
        let manifest = Manifest("""
            # models
            ns/a
              https://hub.example/ns/b.git   # trailing comment

            ns/c.git
            """, baseURL: "http://127.0.0.1:9000")
        #expect(manifest.entries == ["http://127.0.0.1:9000/ns/a.git", "https://hub.example/ns/b.git",
                                     "http://127.0.0.1:9000/ns/c.git"])
    }

    @Test func shardsPartitionStablyWhateverTheOrder() {
        let entries = (0..<200).map { "https://hub.example/ns/model-\($0).git" }
        let manifest = Manifest(entries.joined(separator: "\n"))
        let shards = (0..<7).map { Set(manifest.shard($0, of: 7)) }
        #expect(shards.reduce(0) { $0 + $1.count } == 200)
        #expect(shards.reduce(Set<String>()) { $0.union($1) } == Set(entries))
        #expect(shards.allSatisfy { $0.count > 10 }, "roughly balanced: \(shards.map(\.count))")
        let reversed = Manifest(entries.reversed().joined(separator: "\n"))
        #expect(Set(reversed.shard(3, of: 7)) == shards[3])
        // The token in a URL does not change its shard.
        #expect(Manifest("https://oauth2:x@hub.example/ns/model-5.git").shard(0, of: 7).isEmpty
            == !shards[0].contains("https://hub.example/ns/model-5.git"))
    }

    @Test func mirrorLocationsStayInsideTheRoot() throws {
        let root = URL(fileURLWithPath: "/m")
        #expect(try MirrorJob.location(of: RemoteURL("https://hub.example/ns/name.git"), in: root).path == "/m/hub.example/ns/name.git")
        #expect(try MirrorJob.location(of: RemoteURL("http://h:8080/a/b/c"), in: root).path == "/m/h_8080/a/b/c.git")
        #expect(try MirrorJob.location(of: RemoteURL("https://h/ns/model%20v2.git"), in: root).path == "/m/h/ns/model v2.git")
        #expect(try MirrorJob.expand("https://gl/m/{host}/{ns}/{name}.git", for: RemoteURL("https://hub.example/a/b/c.git"))
            == "https://gl/m/hub.example/a/b/c.git")
    }

    @Test(arguments: ["https://h/ns/%2E%2E/x.git", "https://h/ns/..%2F..%2F..%2Fescaped", "https://h/..%2Fns/x.git",
                      "https://h/ns/x%00y.git", "https://h/ns/%2e%2E%2e", "https://h/ns/a%5Cb.git", "https://h/.GIT/x",
                      "https://h/ns/%FF%FE.git"])
    func namesThatLeaveTheRootAfterDecodingAreRefused(url: String) throws {
        let remote = try RemoteURL(url)
        let unsafe: (any Error) -> Bool = { ($0 as? MSGitError)?.kind == .unsafePath }
        #expect(performing: { _ = try MirrorJob.location(of: remote, in: URL(fileURLWithPath: "/m")) }, throws: unsafe)
        // And never become part of a push target either.
        #expect(performing: { _ = try MirrorJob.expand("https://gl/{ns}/{name}.git", for: remote) }, throws: unsafe)
    }
}
