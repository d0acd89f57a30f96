import Foundation
import Testing
@testable import Credentials
@testable import MSGit

/// Which `credential.*` settings apply to a URL, with the cases of git's t/t0300-credentials.sh.
@Suite struct GitCredentialSettingsTests {
    func config(_ pairs: [(String, String?)]) -> GitConfig {
        GitConfig(entries: pairs.enumerated().map { GitConfig.Entry(name: GitConfig.canonicalKey($1.0)!, value: $1.1, origin: "test line \($0 + 1)") })
    }

    func request(_ url: String, username: String? = nil) -> CredentialDescription {
        var request = CredentialDescription(url: url, partial: false)!
        if let username { request.username = username }
        return request
    }

    func settings(_ url: String, _ pairs: [(String, String?)], username: String? = nil) throws -> GitCredentialSettings {
        try GitCredentialSettings(for: request(url, username: username), config: config(pairs))
    }

    func helpers(_ url: String, _ pairs: [(String, String?)]) throws -> [String] {
        try settings(url, pairs).helpers.map(\.command)
    }

    @Test func helpersOfEveryMatchingKeyInConfigurationOrder() throws {
        // 'match configured credential', 'do not match configured credential'
        #expect(try helpers("https://example.com/repo.git", [("credential.https://example.com.helper", "h")]) == ["h"])
        #expect(try helpers("https://bar", [("credential.https://foo.helper", "h")]) == [])
        // 'match multiple configured helpers' and '... with URLs': no "most specific wins"
        #expect(try helpers("https://example.com/repo.git", [
            ("credential.helper", "generic"), ("credential.https://example.com.helper", "host"),
        ]) == ["generic", "host"])
        #expect(try helpers("https://example.com/repo.git", [
            ("credential.https://example.com/repo.git.helper", "path"), ("credential.https://example.com.helper", "host"),
            ("credential.https://example.com/other.git.helper", "other"),
        ]) == ["path", "host"])
        // 'fetch with multiple path components'
        #expect(try helpers("https://example.com/foo/repo.git", [("credential.https://example.com/foo/repo.git.helper", "h")]) == ["h"])
        #expect(try helpers("https://example.com/foo/repo.git", [("credential.https://example.com/foo.helper", "h")]) == ["h"])
    }

    @Test func anEmptyHelperEmptiesTheListSoFar() throws {
        // 'empty helper spec resets helper list'
        #expect(try helpers("http://example.com", [
            ("credential.helper", "file"), ("credential.helper", ""), ("credential.helper", "cmdline"),
        ]) == ["cmdline"])
        #expect(try helpers("http://example.com", [
            ("credential.helper", "a"), ("credential.http://example.com.helper", ""), ("credential.helper", "b"),
            ("credential.http://other.example.helper", ""),
        ]) == ["b"], "a reset counts only where its URL matches")
    }

    @Test func percentEncodedKeysMatch() throws {
        // 'match percent-encoded values', '... UTF-8 values in path', '... in username', '... in hostname'
        #expect(try helpers("https://example.com/%2566.git", [("credential.https://example.com/%2566.git.helper", "h")]) == ["h"])
        let utf8 = try settings("https://example.com/per%C3%BA.git", [
            ("credential.https://example.com.useHttpPath", "true"), ("credential.https://example.com/perú.git.helper", "h"),
        ])
        #expect(utf8.helpers.map(\.command) == ["h"])
        #expect(utf8.request.path == "perú.git")
        #expect(try settings("https://example.com/foo/bar.git", [("credential.https://user%2fname@example.com/foo/bar.git.helper", "h")],
                             username: "user/name").helpers.count == 1)
        #expect(try settings("https://example.com/foo/bar.git", [("credential.https://user%2fname@example.com/foo/bar.git.helper", "h")])
            .helpers.isEmpty, "a user in the key must be the request's")
        #expect(try helpers("https://a b c/", [("credential.https://a%20b%20c/.helper", "h")]) == ["h"])
    }

    @Test func usernamesFromConfigurationNeverReplaceTheURLs() throws {
        // 'pull username from config', 'honors username from URL over helper', 'last matching username wins'
        #expect(try settings("https://example.com", [("credential.https://example.com.username", "foo")]).request.username == "foo")
        #expect(try settings("https://example.com", [("credential.https://example.com.username", "bob")], username: "alice")
            .request.username == "alice")
        #expect(try settings("https://example.com/path.git", [
            ("credential.https://example.com/path.git.username", "bob"), ("credential.https://example.com.username", "alice"),
        ]).request.username == "alice")
    }

    @Test func pathsAreToldOnlyWithUseHttpPath() throws {
        // 'http paths can be part of context', 'context uses urlmatch'
        #expect(try settings("https://example.com/foo.git", []).request.path == nil)
        #expect(try settings("https://example.com/foo.git", [("credential.https://example.com.useHttpPath", "true")]).request.path
            == "foo.git")
        #expect(try settings("https://example.org/foo.git", [("credential.https://*.org.useHttpPath", "true")]).request.path
            == "foo.git")
        #expect(try settings("https://example.com/foo.git", [("credential.https://*.org.useHttpPath", "true")]).request.path == nil)
        let plain = try settings("https://example.com/foo.git", [("credential.useHttpPath", "1"), ("credential.usehttppath", "no")])
        #expect(plain.request.path == nil && !plain.useHTTPPath, "the last value wins")
    }

    @Test(arguments: [
        "example.com", "example.com/org/repo.git", "user@example.com", "user@example.com/org/repo.git", "https://",
        "https://example.com", "https://example.com/", "https://example.com/org", "https://example.com/org/",
        "https://example.com/org/repo.git", "https://user@example.com", "https://user@example.com/",
        "https://user@example.com/org", "https://user@example.com/org/", "https://user@example.com/org/repo.git",
        "/org/repo.git",
    ])
    func partialURLsThatMatch(_ partial: String) throws {
        // 'credential config with partial URLs', for url=https://user@example.com/org/repo.git
        #expect(try settings("https://example.com/org/repo.git", [("credential.\(partial).helper", "yep")], username: "user")
            .helpers.count == 1)
    }

    @Test(arguments: [
        "dont.use.this", "example.com/o", "user@example.com/o", "http://", "https://example.com/o",
        "https://user@example.com/o", "/o", "/repo",
    ])
    func partialURLsThatDoNot(_ partial: String) throws {
        #expect(try settings("https://example.com/org/repo.git", [("credential.\(partial).helper", "yep")], username: "user")
            .helpers.isEmpty)
    }

    @Test func keysWithoutValuesAndBadBooleansAreErrors() throws {
        #expect { try settings("https://example.com", [("credential.helper", nil)]) } throws: { error in
            "\(error)".contains("missing value for 'credential.helper' (test line 1)")
        }
        #expect { try settings("https://example.com", [("credential.useHttpPath", "perhaps")]) } throws: { error in
            "\(error)".contains("bad boolean config value for 'credential.usehttppath'")
        }
        #expect(try settings("https://example.com", [("credential.https://other.example.helper", nil)]).helpers.isEmpty,
                "an entry for another URL is not looked at")
    }

    @Test func helpersKnowWhetherTheirKeyNamedTheHost() throws {
        let chosen = try settings("https://hub.example/ns/x.git", [
            ("credential.helper", "any"), ("credential.https://hub.example.helper", "exact"),
            ("credential.https://*.example.helper", "wildcard"), ("credential.hub.example.helper", "partial"),
            ("credential.https://.helper", "scheme-only"),
        ]).helpers
        #expect(chosen.map(\.command) == ["any", "exact", "wildcard", "partial", "scheme-only"])
        #expect(chosen.map(\.namesHost) == [false, true, false, true, false])
    }

    @Test func theRequestIsTheURLAsGitSplitsIt() throws {
        let request = GitCredentialSettings.request(for: try RemoteURL("https://Hub.Example:8443/ns/a%20b.git/"))
        #expect(request == CredentialDescription(protocolName: "https", host: "hub.example:8443", path: "ns/a b.git"))
        let ipv6 = try RemoteURL("http://[::1]:9/x")
        #expect(GitCredentialSettings.request(for: ipv6).host == "[::1]:9")
    }
}
