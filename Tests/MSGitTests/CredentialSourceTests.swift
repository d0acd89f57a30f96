import Foundation
import Testing
@testable import Credentials
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
        defer { try? FileManager.default.removeItem(at: dir) }
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
        defer { try? FileManager.default.removeItem(at: dir) }
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
        defer { try? FileManager.default.removeItem(at: dir) }
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
