import Foundation
import Testing
@testable import Credentials
@testable import MSGit

/// URL normalisation and matching as git's urlmatch.c does them, with the cases of git's own
/// t/unit-tests/u-urlmatch-normalization.c (once t0110-urlmatch-normalization.sh) and
/// t1300-config.sh's urlmatch tests.
@Suite struct GitURLMatchTests {
    func normalized(_ url: String) -> String? { GitURLMatch(url)?.string }

    @Test(arguments: [
        ("", false), ("_", false), ("scheme", false), ("scheme:", false), ("scheme:/", false), ("scheme://", false),
        ("file", false), ("file:", false), ("file:/", false), ("file://", true), ("://acme.co", false),
        ("x_test://acme.co", false), ("-test://acme.co", false), ("0test://acme.co", false), ("+test://acme.co", false),
        (".test://acme.co", false), ("schem%6e://", false), ("x-Test+v1.0://acme.co", true),
        // authority
        ("scheme://user:pass@", false), ("scheme://?", false), ("scheme://#", false), ("scheme:///", false),
        ("scheme://:", false), ("scheme://:555", false), ("file://user:pass@", true), ("file://?", true),
        ("file://#", true), ("file:///", true), ("file://:", true), ("file://:555", false),
        ("scheme://user:pass@host", true), ("scheme://@host", true), ("scheme://%00@host", true),
        ("scheme://%%@host", false), ("scheme://host_", true), ("scheme://user:pass@host/", true),
        ("scheme://@host/", true), ("scheme://host/", true), ("scheme://host?x", true), ("scheme://host#x", true),
        ("scheme://host/@", true), ("scheme://host?@x", true), ("scheme://host#@x", true), ("scheme://[::1]", true),
        ("scheme://[::1]/", true), ("scheme://hos%41/", false), ("scheme://[invalid....:/", true),
        ("scheme://invalid....:]/", true), ("scheme://invalid....:[/", false), ("scheme://invalid....:[", false),
        // port
        ("xyz://q@some.host:", true), ("xyz://q@some.host:456/", true), ("xyz://q@some.host:0", false),
        ("xyz://q@some.host:0000000", false), ("xyz://q@some.host:0000001?", true), ("xyz://q@some.host:065535#", true),
        ("xyz://q@some.host:65535", true), ("xyz://q@some.host:65536", false), ("xyz://q@some.host:99999", false),
        ("xyz://q@some.host:100000", false), ("xyz://q@some.host:100001", false), ("http://q@some.host:80", true),
        ("https://q@some.host:443", true), ("http://q@some.host:80/", true), ("https://q@some.host:443?", true),
        ("http://q@:8008", false), ("http://:8080", false), ("http://:", false), ("xyz://[::1]:456/", true),
        ("xyz://[::1]:/", true), ("xyz://[::1]:000/", false), ("xyz://[::1]:0%300/", false), ("xyz://[::1]:0x80/", false),
        ("xyz://[::1]:4294967297/", false), ("xyz://[::1]:030f/", false),
        // escapes and dots
        ("http://x.y?%fg", false), ("x://y/a/./b/.././../c/././.././..", false),
    ])
    func normalizable(_ url: String, _ expected: Bool) {
        #expect((GitURLMatch(url) != nil) == expected)
    }

    @Test(arguments: [
        ("AbCdeF://x.Y", "abcdef://x.y/"),
        ("http://x:800", "http://x:800/"), ("http://x:0800", "http://x:800/"), ("http://x:00000800", "http://x:800/"),
        ("http://x:065535", "http://x:65535/"), ("http://x:1", "http://x:1/"), ("http://x:80", "http://x/"),
        ("http://x:080", "http://x/"), ("http://x:000000080", "http://x/"), ("https://x:443", "https://x/"),
        ("https://x:0443", "https://x/"), ("https://x:000000443", "https://x/"),
        ("X://W/%7e%41^%3a", "x://w/~A%5E%3A"), ("X://W/:/?#[]@", "x://w/:/?#[]@"), ("X://W/$&()*+,;=", "x://w/$&()*+,;="),
        ("X://W/'", "x://w/'"), ("X://W?!", "x://w/?!"),
        ("x://q/\u{01}\u{02}\u{03}\u{04}\u{05}\u{06}\u{07}\u{08}\u{0e}\u{0f}\u{10}\u{11}\u{12}",
         "x://q/%01%02%03%04%05%06%07%08%0E%0F%10%11%12"),
        ("x://q/\u{13}\u{14}\u{15}\u{16}\u{17}\u{18}\u{19}\u{1b}\u{1c}\u{1d}\u{1e}\u{1f}\u{7f}",
         "x://q/%13%14%15%16%17%18%19%1B%1C%1D%1E%1F%7F"),
        ("x://q/\u{80}\u{7FF}\u{800}\u{FFFD}\u{10000}\u{2FFFD}",
         "x://q/%C2%80%DF%BF%E0%A0%80%EF%BF%BD%F0%90%80%80%F0%AF%BF%BD"),
        ("x://%41%62(^):%70+d@foo", "x://Ab(%5E):p+d@foo/"),
        ("x://y/.", "x://y/"), ("x://y/./", "x://y/"), ("x://y/a/.", "x://y/a"), ("x://y/a/./", "x://y/a/"),
        ("x://y/.?", "x://y/?"), ("x://y/./?", "x://y/?"), ("x://y/a/.?", "x://y/a?"), ("x://y/a/./?", "x://y/a/?"),
        ("x://y/a/./b/.././../c", "x://y/c"), ("x://y/a/./b/../.././c/", "x://y/c/"),
        ("x://y/a/./b/.././../c/././.././.", "x://y/"), ("x://y/a/./?/././..", "x://y/a/?/././.."),
        ("x://y/%2e/", "x://y/"), ("x://y/%2E/", "x://y/"), ("x://y/a/%2e./", "x://y/"), ("x://y/b/.%2E/", "x://y/"),
        ("x://y/c/%2e%2E/", "x://y/"),
    ])
    func normalizes(_ url: String, _ expected: String) {
        #expect(normalized(url) == expected)
    }

    @Test func lengthsAndEquivalents() {
        #expect(GitURLMatch("Http://%4d%65:%4d^%70@The.Host")?.url.count == 25)
        #expect(GitURLMatch("http://%41:%42@x.y/%61/")?.url.count == 17)
        #expect(GitURLMatch("http://@x.y/^")?.url.count == 15)
        #expect(normalized("httP://x") == normalized("Http://X/"))
        #expect(normalized("Http://%4d%65:%4d^%70@The.Host") == normalized("hTTP://Me:%4D^p@the.HOST:80/"))
        #expect(normalized("https://@x.y/^") != normalized("httpS://x.y:443/^"))
        #expect(normalized("https://@x.y/^") == normalized("httpS://@x.y:0443/^"))
        #expect(normalized("https://@x.y/^/../abc") == normalized("httpS://@x.y:0443/abc"))
        #expect(normalized("https://@x.y/^/..") == normalized("httpS://@x.y:0443/"))
    }

    func matches(_ url: String, _ pattern: String) -> Bool {
        guard let url = GitURLMatch(url), let pattern = GitURLMatch(pattern, allowGlobs: true) else { return false }
        return url.isMatched(by: pattern)
    }

    @Test func wildcardsStandForOneWholeLabel() {
        // t1300 'urlmatch with wildcard' and 'urlmatch favors more specific URLs'
        #expect(matches("https://good.example.com", "https://*.example.com"))
        #expect(!matches("https://example.com", "https://*.example.com"))
        #expect(!matches("https://good-example.com", "https://*.example.com"))
        #expect(!matches("https://deep.nested.example.com", "https://*.example.com"))
        #expect(!matches("https://more.example.com.au", "https://*.example.com"))
        #expect(matches("https://wildcard.example.org", "https://*.example.*"))
        #expect(matches("https://user@sub.example.com", "https://user@*.example.com/"))
        #expect(!matches("https://sub.example.com", "https://user@*.example.com/"))
        #expect(!matches("https://good.example.com", "https://*od.example.com"), "* is a whole label, not a glob")
        #expect(GitURLMatch("https://*.example.com") == nil, "no globs outside configuration keys")
    }

    @Test func pathsArePrefixesOnSegmentBoundaries() {
        #expect(matches("https://example.com/subdirectory/nested", "https://example.com/subdirectory"))
        #expect(matches("https://example.com/subdirectory", "https://example.com/subdirectory/"))
        #expect(!matches("https://example.com/subdirectoryx", "https://example.com/subdirectory"))
        #expect(matches("https://example.com/anything", "https://example.com"))
        #expect(matches("https://example.com/a/b/../c.git", "https://example.com/a/c.git"))
    }

    @Test func usersPortsAndSchemes() {
        #expect(matches("https://user@example.com/", "https://example.com/"), "a pattern without a user matches any user")
        #expect(matches("https://user@example.com/", "https://user@example.com/"))
        #expect(!matches("https://example.com/", "https://user@example.com/"))
        #expect(!matches("https://averylonguser@example.com/", "https://user@example.com/"))
        #expect(matches("https://example.com/x", "https://example.com:443"))
        #expect(matches("http://example.com:80/x", "http://example.com"))
        #expect(!matches("http://example.com:8080/x", "http://example.com"))
        #expect(!matches("http://example.com/x", "http://example.com:8080"))
        #expect(!matches("http://example.com/x", "https://example.com"))
        #expect(matches("HTTPS://EXAMPLE.com/x", "https://example.COM"))
    }
}
