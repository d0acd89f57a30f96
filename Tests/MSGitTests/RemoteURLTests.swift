import HTTP
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct RemoteURLTests {
    @Test func userinfoIsTakenOutAndKeptApart() throws {
        let url = try RemoteURL("https://oauth2:s3cr3t-token@www.modelscope.cn/ns/name.git")
        #expect(url.string == "https://www.modelscope.cn/ns/name.git")
        #expect(url.username == "oauth2")
        #expect(url.userinfoToken == "s3cr3t-token")
        #expect(!url.description.contains("s3cr3t"))
    }

    @Test func aLoneUserinfoIsTreatedAsAToken() throws {
        let url = try RemoteURL("https://glpat-abcdef123@host.example/ns/name.git")
        #expect(url.userinfoToken == "glpat-abcdef123")
        #expect(url.username == nil)
        #expect(url.string == "https://host.example/ns/name.git")
    }

    @Test func originUsesDefaultPorts() throws {
        #expect(try RemoteURL("https://Host.Example/a/b").origin == Origin(scheme: "https", host: "host.example", port: 443))
        #expect(try RemoteURL("http://host:8080/a/b").origin == Origin(scheme: "http", host: "host", port: 8080))
        #expect(try RemoteURL("http://host/a/b").origin != RemoteURL("https://host/a/b").origin)
    }

    @Test func humanishNameAsGitDoes() throws {
        #expect(try RemoteURL("https://h/ns/model.git").humanishName == "model")
        #expect(try RemoteURL("https://h/ns/model").humanishName == "model")
        #expect(try RemoteURL("https://h/ns/model/").humanishName == "model")
    }

    @Test(arguments: [
        ("", "no repository URL"),
        ("git@host:ns/name.git", "ssh URLs are not supported yet"),
        ("ssh://host/ns/name.git", "ssh URLs are not supported yet"),
        ("file:///tmp/repo", "unsupported URL scheme 'file'"),
        ("git://host/ns/name.git", "unsupported URL scheme 'git'"),
        ("https://", "malformed URL"),
        ("https://host", "no repository path"),
        ("https://host/ns/name.git?x=1", "no query or fragment"),
        ("not a url", "malformed URL"),
    ])
    func rejected(input: String, message: String) {
        #expect {
            _ = try RemoteURL(input)
        } throws: { error in
            guard let error = error as? MSGitError else { return false }
            return error.kind == .invalidArgument && error.message.contains(message)
        }
    }

    @Test func errorsNeverEchoAToken() {
        do {
            _ = try RemoteURL("ftp://oauth2:supersecret99@host/x.git")
            Issue.record("should throw")
        } catch {
            #expect(!error.description.contains("supersecret99"))
        }
    }
}

@Suite struct CheckoutChoiceTests {
    typealias Job = CloneJob

    @Test func remoteHEADWins() throws {
        #expect(try Job.chooseCheckout(requested: nil, remoteHEAD: "refs/heads/dev",
                                       branches: ["refs/heads/dev", "refs/heads/master"], tags: []) == .branch("refs/heads/dev"))
    }

    @Test func missingHEADFallsBackToMasterThenMainThenFirst() throws {
        #expect(try Job.chooseCheckout(requested: nil, remoteHEAD: "refs/heads/gone",
                                       branches: ["refs/heads/main", "refs/heads/master"], tags: []) == .branch("refs/heads/master"))
        #expect(try Job.chooseCheckout(requested: nil, remoteHEAD: nil,
                                       branches: ["refs/heads/main", "refs/heads/a"], tags: []) == .branch("refs/heads/main"))
        #expect(try Job.chooseCheckout(requested: nil, remoteHEAD: nil,
                                       branches: ["refs/heads/zeta", "refs/heads/alpha"], tags: []) == .branch("refs/heads/alpha"))
        #expect(try Job.chooseCheckout(requested: nil, remoteHEAD: nil, branches: [], tags: []) == .empty)
    }

    @Test func requestedBranchThenTag() throws {
        #expect(try Job.chooseCheckout(requested: "v1", remoteHEAD: nil, branches: ["refs/heads/master"],
                                       tags: ["refs/tags/v1"]) == .tag("refs/tags/v1"))
        #expect(throws: MSGitError.self) {
            try Job.chooseCheckout(requested: "nope", remoteHEAD: nil, branches: ["refs/heads/master"], tags: [])
        }
    }
}

/// Issue 23, class 8: the hubs whose help shows `http://oauth2:TOKEN@...` are reached over https.
@Suite struct KnownHubUpgradeTests {
    @Test func plainHTTPForAKnownHubBecomesHTTPSBeforeAnyRequest() throws {
        for host in ["www.modelscope.cn", "modelscope.cn", "www.modelscope.ai", "modelscope.ai", "huggingface.co", "HuggingFace.co"] {
            let url = try RemoteURL("http://oauth2:tok-123456@\(host)/ns/model.git")
            #expect(url.scheme == "https" && url.port == nil && url.upgradedFromHTTP, "\(host)")
            #expect(url.string == "https://\(host.lowercased())/ns/model.git")
            #expect(url.userinfoToken == "tok-123456")
        }
        let explicitPort = try RemoteURL("http://www.modelscope.cn:80/ns/model.git")
        #expect(explicitPort.string == "https://www.modelscope.cn/ns/model.git")
        for other in ["http://www.modelscope.cn:8080/ns/m.git", "http://gitlab.internal/ns/m.git", "http://127.0.0.1:8080/ns/m.git"] {
            let url = try RemoteURL(other)
            #expect(url.scheme == "http" && !url.upgradedFromHTTP, "\(other)")
        }
    }

    @Test func loopbackHostsAreKnown() throws {
        for url in ["http://localhost:1/a/b", "http://127.0.0.1/a/b", "http://127.9.9.9/a/b", "http://[::1]:8/a/b"] {
            #expect(try RemoteURL(url).isLoopback, "\(url)")
        }
        for url in ["http://gitlab.internal/a/b", "http://10.0.0.1/a/b", "http://msgit-dualstack.test/a/b"] {
            #expect(try !RemoteURL(url).isLoopback, "\(url)")
        }
    }
}
