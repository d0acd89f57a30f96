import Foundation
import Testing
@testable import MSGit

@Suite struct CredentialSourceTests {
    func home(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-home-\(UUID().uuidString)")
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func orderIsTokenFileEnvironmentModelScopeStoreNetrc() throws {
        let dir = try home([
            "token": "from-file\n",
            ".modelscope/credentials/git_token": "from-modelscope",
            ".git-credentials": "https://oauth2:from-store@www.modelscope.cn\n",
            ".netrc": "machine www.modelscope.cn login oauth2 password from-netrc\n",
        ])
        let url = try RemoteURL("https://www.modelscope.cn/ns/name.git")
        func source(_ env: [String: String], file: Bool) throws -> String? {
            try StandardCredentials(tokenFile: file ? dir.appendingPathComponent("token") : nil, environment: env, home: dir)
                .credential(for: url)?.token
        }
        #expect(try source(["MSGIT_TOKEN": "from-env"], file: true) == "from-file")
        #expect(try source(["MSGIT_TOKEN": "from-env"], file: false) == "from-env")
        #expect(try source([:], file: false) == "from-modelscope")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".modelscope"))
        #expect(try source([:], file: false) == "from-store")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".git-credentials"))
        #expect(try source([:], file: false) == "from-netrc")
    }

    @Test func theModelScopeFileIsOnlyForModelScopeHosts() throws {
        let dir = try home([".modelscope/credentials/git_token": "ms-token"])
        let provider = StandardCredentials(environment: [:], home: dir)
        #expect(try provider.credential(for: RemoteURL("https://www.modelscope.ai/a/b"))?.token == "ms-token")
        #expect(try provider.credential(for: RemoteURL("https://modelscope.cn/a/b"))?.token == "ms-token")
        #expect(try provider.credential(for: RemoteURL("https://notmodelscope.cn/a/b")) == nil)
        #expect(try provider.credential(for: RemoteURL("https://example.com/a/b")) == nil)
        let moved = StandardCredentials(environment: ["MODELSCOPE_CREDENTIALS_PATH": dir.path + "/.modelscope/credentials"],
                                        home: URL(fileURLWithPath: "/nonexistent"))
        #expect(try moved.credential(for: RemoteURL("https://www.modelscope.cn/a/b"))?.token == "ms-token")
    }

    @Test func secondaryOriginsNeverGetTheOperationsToken() throws {
        let dir = try home([".git-credentials": "http://oauth2:stored@lfs.example:8080\n"])
        let provider = StandardCredentials(tokenFile: nil, environment: ["MSGIT_TOKEN": "operation-token"], home: dir)
        #expect(try provider.credential(forSecondaryOrigin: RemoteURL("http://other.example/x/info/lfs")) == nil)
        #expect(try provider.credential(forSecondaryOrigin: RemoteURL("http://lfs.example:8080/x/info/lfs"))?.token == "stored")
        #expect(try StaticCredentials(token: "t").credential(forSecondaryOrigin: RemoteURL("http://x/y/z")) == nil)
    }

    @Test func credentialStoreMatchesAsGitDoes() throws {
        let text = """
            https://alice:a%40pass@hub.example
            http://oauth2:plain@hub.example
            https://oauth2:port@hub.example:8443
            https://bob:bobs@hub.example/only/this/path
            not a url
            """
        #expect(GitCredentialStore.lookup(try RemoteURL("https://hub.example/ns/x.git"), in: text)?.password == "a@pass")
        #expect(GitCredentialStore.lookup(try RemoteURL("http://hub.example/ns/x.git"), in: text)?.password == "plain")
        #expect(GitCredentialStore.lookup(try RemoteURL("https://hub.example:8443/ns/x.git"), in: text)?.password == "port")
        #expect(GitCredentialStore.lookup(try RemoteURL("https://bob:unused@hub.example/ns/x.git"), in: text)?.password == "bobs",
                "a username in the URL must match; paths are not compared")
        #expect(GitCredentialStore.lookup(try RemoteURL("https://HUB.example/ns/x.git"), in: text) != nil)
        #expect(GitCredentialStore.lookup(try RemoteURL("https://other.example/ns/x.git"), in: text) == nil)
    }

    @Test func storingReplacesTheSameOriginAndUserAndEncodes() {
        let before = "https://oauth2:old@hub.example\nhttps://alice:x@hub.example\n"
        let after = GitCredentialStore.store(.init(scheme: "https", host: "hub.example", username: "oauth2", password: "n/e:w@"),
                                             in: before)
        #expect(after.contains("https://alice:x@hub.example"))
        #expect(!after.contains("old"))
        #expect(after.contains("https://oauth2:n%2Fe%3Aw%40@hub.example"))
        #expect(GitCredentialStore.parse(Substring(after.split(separator: "\n").last!))?.password == "n/e:w@")
    }

    @Test func netrcMachinesAndDefault() {
        let text = """
            # comment
            machine hub.example
              login oauth2
              password hub-token
            macdef init
            cd /somewhere

            machine other.example login x password other-token
            default login anonymous password default-token
            """
        #expect(Netrc.lookup(host: "hub.example", in: text) == .init(login: "oauth2", password: "hub-token"))
        #expect(Netrc.lookup(host: "other.example", in: text)?.password == "other-token")
        #expect(Netrc.lookup(host: "unknown.example", in: text)?.password == "default-token")
        #expect(Netrc.lookup(host: "x", in: "machine y password z\n") == nil)
    }
}

@Suite struct ShortNameTests {
    @Test func namespaceSlashNameIsAModelScopeRepository() {
        #expect(ShortNames.expand("qwen/Qwen2-7B", environment: [:]) == "https://www.modelscope.cn/qwen/Qwen2-7B.git")
        #expect(ShortNames.expand("ns/name.git", environment: [:]) == "https://www.modelscope.cn/ns/name.git")
    }

    @Test func endpointAndDomainAsTheSDKsDo() {
        #expect(ShortNames.expand("a/b", environment: ["MODELSCOPE_DOMAIN": "www.modelscope.ai"])
            == "https://www.modelscope.ai/a/b.git")
        #expect(ShortNames.expand("a/b", environment: ["MSGIT_ENDPOINT": "http://127.0.0.1:8080/",
                                                       "MODELSCOPE_DOMAIN": "ignored.example"])
            == "http://127.0.0.1:8080/a/b.git")
    }

    @Test func otherInputIsLeftAlone() {
        for input in ["https://h/a/b.git", "a", "a/b/c", "/a/b", "a/../b", "git@h:a/b", "../b", "a b/c"] {
            #expect(ShortNames.expand(input, environment: [:]) == input, "\(input)")
        }
    }
}

@Suite struct ByteSizeTests {
    @Test func sizesAsPeopleWriteThem() {
        #expect(ByteSize.parse("1048576") == 1_048_576)
        #expect(ByteSize.parse("1MiB") == 1_048_576 && ByteSize.parse("1M") == 1_048_576)
        #expect(ByteSize.parse("500KB") == 500_000 && ByteSize.parse("500 kib") == 512_000)
        #expect(ByteSize.parse("1.5GB") == 1_500_000_000)
        for bad in ["", "lots", "-1", "1XB", "MB"] { #expect(ByteSize.parse(bad) == nil, "\(bad)") }
    }
}

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
        #expect(MirrorJob.location(of: try RemoteURL("https://hub.example/ns/name.git"), in: root).path == "/m/hub.example/ns/name.git")
        #expect(MirrorJob.location(of: try RemoteURL("http://h:8080/a/b/c"), in: root).path == "/m/h_8080/a/b/c.git")
        #expect(MirrorJob.location(of: try RemoteURL("https://h/ns/%2E%2E/x.git"), in: root).path == "/m/h/ns/x.git")
        #expect(MirrorJob.expand("https://gl/m/{host}/{ns}/{name}.git", for: try RemoteURL("https://hub.example/a/b/c.git"))
            == "https://gl/m/hub.example/a/b/c.git")
    }
}
