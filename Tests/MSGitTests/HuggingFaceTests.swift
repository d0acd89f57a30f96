import Foundation
import HTTP
import Testing
@testable import Credentials
@testable import MSGit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 25: Hugging Face's URLs and short names, as the hub and huggingface_hub write them.
@Suite struct HuggingFaceNameTests {
    @Test func shortNamesExpandToTheURLsTheHubShows() {
        let cases = [
            ("hf:org/name", "https://huggingface.co/org/name"),
            ("hf:datasets/org/name", "https://huggingface.co/datasets/org/name"),
            ("hf:spaces/org/name", "https://huggingface.co/spaces/org/name"),
            ("hf:models/org/name", "https://huggingface.co/org/name"),
            ("hf://datasets/org/name", "https://huggingface.co/datasets/org/name"),
            ("hf://org/name", "https://huggingface.co/org/name"),
            ("HF:Qwen/Qwen2.5-7B-Instruct", "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct"),
            ("hf:meta-llama/Llama-3.1-8B.git", "https://huggingface.co/meta-llama/Llama-3.1-8B"),
            (" hf:org/under_score ", "https://huggingface.co/org/under_score"),
        ]
        for (input, url) in cases {
            #expect(ShortNames.expand(input, environment: [:]) == url, "\(input)")
        }
    }

    @Test func hfEndpointMovesThemAndOnlyThem() {
        #expect(ShortNames.expand("hf:org/name", environment: ["HF_ENDPOINT": "http://127.0.0.1:9/"]) == "http://127.0.0.1:9/org/name")
        #expect(ShortNames.expand("hf:spaces/a/b", environment: ["HF_ENDPOINT": "hf-mirror.com"]) == "https://hf-mirror.com/spaces/a/b")
        #expect(ShortNames.expand("hf:a/b", environment: ["HF_ENDPOINT": " "]) == "https://huggingface.co/a/b")
        #expect(ShortNames.expand("hf:a/b", environment: ["MSGIT_ENDPOINT": "http://ms.example"]) == "https://huggingface.co/a/b")
        #expect(ShortNames.expand("a/b", environment: ["HF_ENDPOINT": "http://hf.example"]) == "https://www.modelscope.cn/a/b.git")
        #expect(HuggingFace.endpoint(environment: [:]) == HuggingFace.defaultEndpoint)
    }

    @Test(arguments: [
        ("hf:../x", "may not start or end"),
        ("hf:x/..", "may not start or end"),
        ("hf:org/name/extra", "'extra' would be a path inside it"),
        ("hf:datasets/org/name/extra/more", "'extra/more' would be a path inside it"),
        ("hf:org/name/", "an empty part"),
        ("hf:%2e%2e/x", "may hold only letters"),
        ("hf:org/na%2Fme", "may hold only letters"),
        ("hf:org%2Fname", "a repository is org/name"),
        ("hf:org/name@main", "a revision has no place"),
        ("hf://datasets/org/name@refs/pr/1", "a revision has no place"),
        ("hf:org", "a repository is org/name"),
        ("hf:datasets/org", "a repository is org/name"),
        ("hf:", "a repository is org/name"),
        ("hf:/org/name", "an empty part"),
        ("hf:org//name", "an empty part"),
        ("hf:-org/name", "may not start or end"),
        ("hf:org/name.", "may not start or end"),
        ("hf:org/a--b", "may not hold '--' or '..'"),
        ("hf:org/a..b", "may not hold '--' or '..'"),
        ("hf:org/na me", "may hold only letters"),
        ("hf:org/näme", "may hold only letters"),
        ("hf:org/name?x=1", "may hold only letters"),
        ("hf:org/name#x", "may hold only letters"),
        ("hf:org\\name/x", "may hold only letters"),
        ("hf:kernels/org/name", "not kernels"),
        ("hf:buckets/org/name", "not buckets"),
        ("hf:org/" + String(repeating: "n", count: 93), "longer than 96"),
    ])
    func hostileNamesAreRefusedAndSayWhy(input: String, reason: String) {
        #expect(ShortNames.expand(input, environment: [:]) == input, "left alone, as other input")
        #expect {
            _ = try RemoteURL.resolving(input)
        } throws: { error in
            guard let error = error as? MSGitError, error.kind == .invalidArgument else { return false }
            return error.message.contains("names no Hugging Face repository") && error.message.contains(reason)
        }
    }

    @Test func theLongestIdIsTaken() throws {
        let name = String(repeating: "n", count: 92)
        #expect(try HuggingFaceName("hf:org/\(name)").id == "org/\(name)")
    }

    @Test func aShortNameIsNoURL() {
        #expect {
            _ = try RemoteURL("hf:org/name")
        } throws: { error in
            (error as? MSGitError)?.message.contains("'hf:org/name' is a short name, not a URL") == true
        }
    }

    @Test func parsedNamesSayWhatTheyAre() throws {
        let name = try HuggingFaceName("hf://datasets/org/name.git")
        #expect(name.kind == .dataset && name.id == "org/name")
        #expect(name.description == "hf:datasets/org/name")
        #expect(name.url(endpoint: "http://h:1/") == "http://h:1/datasets/org/name")
        #expect(try HuggingFaceName("hf:models/a/b").description == "hf:a/b")
    }

    @Test func urlsWithoutDotGitNameTheCloneAsGitDoes() throws {
        #expect(try RemoteURL.resolving("hf:org/Llama-3.1-8B").humanishName == "Llama-3.1-8B")
        #expect(try RemoteURL("https://huggingface.co/datasets/org/squad").humanishName == "squad")
        #expect(try RemoteURL("https://huggingface.co/org/name/").humanishName == "name")
        #expect(try RemoteURL("https://huggingface.co/org/name/.git").humanishName == "name")
        #expect(try RemoteURL("https://huggingface.co/org/name.git/").humanishName == "name")
        #expect(try RemoteURL("http://hf.co/org/name").string == "https://hf.co/org/name", "hf.co serves https only")
    }

    @Test func mirrorsOfHuggingFaceURLsGoWhereTheirNamesSay() throws {
        let model = try RemoteURL("https://huggingface.co/org/name")
        let dataset = try RemoteURL("https://huggingface.co/datasets/org/name")
        #expect(try MirrorJob.relativeLocation(of: model) == "huggingface.co/org/name.git")
        #expect(try MirrorJob.relativeLocation(of: dataset) == "huggingface.co/datasets/org/name.git")
        #expect(try MirrorJob.expand("https://hub.example/{ns}/{name}.git", for: model) == "https://hub.example/org/name.git")
        #expect(try MirrorJob.expand("https://hub.example/{ns}/{name}.git", for: dataset)
            == "https://hub.example/datasets/org/name.git")
    }
}

/// Issue 25: Hugging Face's token, from where its users keep it, to its hosts only.
@Suite struct HuggingFaceTokenTests {
    func home(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-hfhome-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    let hub = try! RemoteURL("https://huggingface.co/org/name")

    @Test func orderIsHFTokenThenTheOldNameThenTheTokenFile() throws {
        let dir = try home([
            "path-token": "from-token-path\n",
            "hf-home/token": "from-hf-home",
            "xdg/huggingface/token": "from-xdg",
            ".cache/huggingface/token": "from-default-home",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        func found(_ environment: [String: String]) -> Credential? {
            HuggingFace.credential(environment: environment, home: dir)
        }
        var environment = ["HF_TOKEN": "from-hf-token", "HUGGING_FACE_HUB_TOKEN": "from-legacy",
                           "HF_TOKEN_PATH": dir.path + "/path-token", "HF_HOME": dir.path + "/hf-home",
                           "XDG_CACHE_HOME": dir.path + "/xdg"]
        #expect(found(environment)?.source == "HF_TOKEN")
        #expect(found(environment)?.token == "from-hf-token")
        environment["HF_TOKEN"] = ""
        #expect(found(environment)?.source == "HUGGING_FACE_HUB_TOKEN")
        #expect(found(environment)?.token == "from-legacy")
        environment["HUGGING_FACE_HUB_TOKEN"] = nil
        #expect(found(environment)?.source == dir.path + "/path-token")
        #expect(found(environment)?.token == "from-token-path")
        environment["HF_TOKEN_PATH"] = nil
        #expect(found(environment)?.token == "from-hf-home")
        #expect(found(environment)?.source == dir.path + "/hf-home/token")
        environment["HF_HOME"] = nil
        #expect(found(environment)?.token == "from-xdg")
        environment["XDG_CACHE_HOME"] = ""
        #expect(found(environment)?.token == "from-default-home")
        #expect(found(environment)?.username == "hf_user")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".cache"))
        #expect(found(environment) == nil)
    }

    @Test func aBlankHFTokenHidesTheOldNameAsInHuggingFaceHub() throws {
        let dir = try home([".cache/huggingface/token": "  hf_file\r\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let credential = HuggingFace.credential(environment: ["HF_TOKEN": " \n", "HUGGING_FACE_HUB_TOKEN": "legacy"], home: dir)
        #expect(credential?.token == "hf_file", "cleaned of its line break and blanks")
        #expect(HuggingFace.credential(environment: ["HF_TOKEN": " hf_x\n"], home: dir)?.token == "hf_x")
    }

    @Test func implicitTokensCanBeTurnedOff() throws {
        let dir = try home([".cache/huggingface/token": "hf_file"])
        defer { try? FileManager.default.removeItem(at: dir) }
        for value in ["1", "true", "YES", "On"] {
            #expect(HuggingFace.credential(environment: ["HF_TOKEN": "t", "HF_HUB_DISABLE_IMPLICIT_TOKEN": value], home: dir) == nil)
        }
        #expect(HuggingFace.credential(environment: ["HF_HUB_DISABLE_IMPLICIT_TOKEN": "0"], home: dir)?.token == "hf_file")
    }

    @Test func pathsAreExpandedAsPythonExpandsThem() {
        let home = URL(fileURLWithPath: "/home/u")
        #expect(HuggingFace.tokenFile(environment: ["HF_HOME": "~/hf"], home: home).path == "/home/u/hf/token")
        #expect(HuggingFace.tokenFile(environment: ["HF_TOKEN_PATH": "$D/${N}-tok", "D": "/srv", "N": "x"], home: home).path
            == "/srv/x-tok")
        #expect(HuggingFace.tokenFile(environment: ["HF_HOME": "/a/$UNSET/b"], home: home).path == "/a/$UNSET/b/token")
        #expect(HuggingFace.tokenFile(environment: [:], home: home).path == "/home/u/.cache/huggingface/token")
        #expect(HuggingFace.tokenFile(environment: ["XDG_CACHE_HOME": "/c"], home: home).path == "/c/huggingface/token")
        #expect(HuggingFace.tokenFile(environment: ["HOME": "/home/v"]).path == "/home/v/.cache/huggingface/token")
    }

    @Test func huggingFaceHostsAreItsOwnAndHFEndpointsOrigin() throws {
        for url in ["https://huggingface.co/a/b", "https://HuggingFace.co/a/b", "https://www.huggingface.co/a/b",
                    "https://hf.co/a/b", "http://huggingface.co/a/b"] {
            #expect(HuggingFace.isHub(try RemoteURL(url), environment: [:]), "\(url)")
        }
        for url in ["https://cas-bridge.xethub.hf.co/a/b", "https://cdn-lfs.hf.co/a/b", "https://nothuggingface.co/a/b",
                    "https://huggingface.co.evil.example/a/b", "https://www.modelscope.cn/a/b", "https://hf-mirror.com/a/b"] {
            #expect(!HuggingFace.isHub(try RemoteURL(url), environment: [:]), "\(url)")
        }
        let local = ["HF_ENDPOINT": "http://127.0.0.4:8080/"]
        #expect(HuggingFace.isHub(try RemoteURL("http://127.0.0.4:8080/a/b"), environment: local))
        #expect(!HuggingFace.isHub(try RemoteURL("http://127.0.0.4:8081/a/b"), environment: local), "another port is another hub")
        #expect(!HuggingFace.isHub(try RemoteURL("http://127.0.0.1:8080/a/b"), environment: local))
        let mirror = ["HF_ENDPOINT": "https://hf-mirror.com"]
        #expect(HuggingFace.isHub(try RemoteURL("https://hf-mirror.com/a/b"), environment: mirror))
        #expect(!HuggingFace.isHub(try RemoteURL("http://hf-mirror.com/a/b"), environment: mirror), "not in clear")
        #expect(HuggingFace.isHub(try RemoteURL("https://huggingface.co/a/b"), environment: mirror))
    }

    @Test func standardCredentialsOrderForAHuggingFaceRepository() throws {
        let dir = try home([
            "file": "from-token-file\n",
            ".cache/huggingface/token": "from-hf-file",
            ".git-credentials": "https://someone:from-store@huggingface.co\n",
            ".netrc": "machine huggingface.co login x password from-netrc\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        func found(_ environment: [String: String], file: Bool = false) throws -> Credential? {
            try StandardCredentials(tokenFile: file ? dir.appendingPathComponent("file") : nil, environment: environment, home: dir)
                .credential(for: hub)
        }
        #expect(try found(["MSGIT_TOKEN": "m", "HF_TOKEN": "h"], file: true)?.token == "from-token-file")
        #expect(try found(["MSGIT_TOKEN": "m", "HF_TOKEN": "h"])?.token == "m")
        #expect(try found(["HF_TOKEN": "h"])?.source == "HF_TOKEN")
        #expect(try found([:])?.source == dir.path + "/.cache/huggingface/token")
        let stored = try found(["HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"])
        #expect(stored?.token == "from-store" && stored?.username == "someone", "git's store keeps its own username")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".cache"))
        #expect(try found([:])?.token == "from-store")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".git-credentials"))
        #expect(try found([:])?.token == "from-netrc")
    }

    @Test func theTokenGoesToHuggingFaceHostsOnly() throws {
        let dir = try home([".cache/huggingface/token": "hf_file"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let environment = ["HF_TOKEN": "hf_env", "HF_ENDPOINT": "http://127.0.0.4:8080"]
        let provider = StandardCredentials(environment: environment, home: dir)
        for url in ["https://www.modelscope.cn/a/b.git", "https://gitlab.example/a/b.git", "http://127.0.0.1:8080/a/b.git",
                    "https://cas-bridge.xethub.hf.co/a/b", "https://huggingface.co.evil.example/a/b"] {
            #expect(try provider.credential(for: RemoteURL(url)) == nil, "\(url)")
            #expect(try provider.credential(forSecondaryOrigin: RemoteURL(url)) == nil, "\(url)")
        }
        #expect(try provider.credential(for: RemoteURL("http://127.0.0.4:8080/a/b"))?.token == "hf_env")
        #expect(try provider.credential(for: hub)?.token == "hf_env")
        // An LFS server on another Hugging Face host than the repository's: the token was kept
        // for the hub, so it may go there too; never to a storage host.
        #expect(try provider.credential(forSecondaryOrigin: RemoteURL("https://huggingface.co/org/name.git/info/lfs"))?.token
            == "hf_env")
        #expect(try provider.credential(forSecondaryOrigin: RemoteURL("http://127.0.0.4:8080/org/name.git/info/lfs"))?.token
            == "hf_env")
    }

    @Test func theSourcesHelpNamesIt() {
        #expect(StandardCredentials.sourcesHelp.contains("HF_TOKEN"))
        #expect(StandardCredentials.sourcesHelp.contains("~/.cache/huggingface/token"))
    }
}

/// Issue 25: Hugging Face's LFS links lead to storage hosts (cas-bridge.xethub.hf.co for files in
/// Xet, cdn-lfs.hf.co), presigned: the hub's token never goes there, on a request of msgit's own,
/// a redirect, or libgit2's ask.
@Suite struct HuggingFaceStorageTests {
    let repository = try! RemoteURL("https://huggingface.co/org/name")
    let links = [
        "https://cas-bridge.xethub.hf.co/xet-bridge-us/6543/abc?X-Amz-Signature=sig&X-Amz-Expires=3600",
        "https://cdn-lfs.hf.co/repos/aa/bb/cafe?Expires=1&Signature=sig",
        "https://cdn-lfs-us-1.hf.co/repos/aa/bb/cafe?Expires=1&Signature=sig",
        "https://cdn-lfs.huggingface.co/repos/aa/bb/cafe?Expires=1&Signature=sig",
    ]

    func client(_ environment: [String: String]) -> GitClient {
        GitClient(credentials: StandardCredentials(environment: environment, home: URL(fileURLWithPath: "/nonexistent")),
                  writeCredentials: nil)
    }

    @Test func theBatchAPIGetsTheTokenTheStorageHostsDoNot() throws {
        let secrets = SecretScope()
        defer { secrets.end() }
        let client = client(["HF_TOKEN": "hf_secret"])
        let credential = try CredentialResolution(url: repository, client: client, secrets: secrets).credential
        #expect(credential?.source == "HF_TOKEN")
        let endpoint = URL(string: "https://huggingface.co/org/name.git/info/lfs")!
        let scope = try #require(client.lfsScope(for: endpoint, remoteURL: repository, credential: credential, secrets: secrets))
        var batch = URLRequest(url: endpoint.appendingPathComponent("objects/batch"))
        scope.authorize(&batch)
        #expect(batch.value(forHTTPHeaderField: "Authorization")
            == "Basic " + Data("hf_user:hf_secret".utf8).base64EncodedString())
        for link in links {
            let url = URL(string: link)!
            var download = URLRequest(url: url)
            scope.authorize(&download)
            #expect(download.value(forHTTPHeaderField: "Authorization") == nil, "\(link)")
            #expect(scope.basicCredential(for: url) == nil, "\(link)")
            // The hub answering with a redirect to its storage, as it does for /resolve/ URLs.
            var redirected = URLRequest(url: url)
            redirected.setValue(batch.value(forHTTPHeaderField: "Authorization"), forHTTPHeaderField: "Authorization")
            let followed = CredentialScope.redirected(redirected, from: endpoint)
            #expect(followed != nil && followed?.value(forHTTPHeaderField: "Authorization") == nil, "\(link)")
        }
    }

    @Test func anLFSEndpointOnAStorageHostGetsNoToken() throws {
        // A repository's .lfsconfig may name any server: a storage host is none of the hub's.
        let secrets = SecretScope()
        defer { secrets.end() }
        let client = client(["HF_TOKEN": "hf_secret"])
        let credential = try CredentialResolution(url: repository, client: client, secrets: secrets).credential
        for link in links {
            let endpoint = URL(string: link)!.deletingLastPathComponent().appendingPathComponent("info/lfs")
            #expect(client.lfsScope(for: endpoint, remoteURL: repository, credential: credential, secrets: secrets) == nil,
                    "\(endpoint)")
        }
    }
}
