import Foundation
import Testing
@testable import LFS

@Suite struct PointerTests {
    static let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"

    @Test func specExample() throws {
        let text = "version https://git-lfs.github.com/spec/v1\noid sha256:\(Self.oid)\nsize 12345\n"
        let pointer = try #require(Pointer(Data(text.utf8)))
        #expect(pointer.oid == Self.oid)
        #expect(pointer.size == 12345)
        #expect(pointer.text == text, "writes back byte for byte")
    }

    @Test func preReleaseVersionIsReadAndWrittenAsV1() throws {
        let text = "version https://hawser.github.com/spec/v1\noid sha256:\(Self.oid)\nsize 12345\n"
        let pointer = try #require(Pointer(Data(text.utf8)))
        #expect(pointer.text.hasPrefix("version https://git-lfs.github.com/spec/v1\n"))
    }

    @Test(arguments: [
        // What git-lfs 3.x also takes: surrounding whitespace, blank lines, CRLF, no final newline.
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize 12345",
        "\n\nversion https://git-lfs.github.com/spec/v1\n\noid sha256:OID\nsize 12345\n\n",
        "version https://git-lfs.github.com/spec/v1\r\noid sha256:OID\r\nsize 12345\r\n",
        "version https://git-lfs.github.com/spec/v1\next-0-foo sha256:OID\noid sha256:OID\nsize 12345\n",
    ])
    func acceptedAsGitLFSAcceptsThem(text: String) throws {
        let pointer = try #require(Pointer(Data(text.replacingOccurrences(of: "OID", with: Self.oid).utf8)))
        #expect(pointer.oid == Self.oid && pointer.size == 12345)
    }

    @Test(arguments: [
        "",
        "   \n",
        "hello world\n",
        "version https://git-lfs.github.com/spec/v1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\n",
        "version https://git-lfs.github.com/spec/v1\nsize 12345\noid sha256:OID\n",           // order
        "oid sha256:OID\nversion https://git-lfs.github.com/spec/v1\nsize 12345\n",           // order
        "version https://git-lfs.github.com/spec/v2\noid sha256:OID\nsize 12345\n",           // version
        "version https://git-lfs.github.com/spec/v1\noid sha1:OID\nsize 12345\n",             // hash
        "version https://git-lfs.github.com/spec/v1\noid sha256:\(String(repeating: "A", count: 64))\nsize 1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:../../../../etc/passwd\nsize 1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize -1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize +1\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize 1e3\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize 99999999999999999999\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize 12\nextra line\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:OID\nsize 12\nsize 12\n",
        "version https://git-lfs.github.com/spec/v1\nfoo bar\noid sha256:OID\nsize 12\n",    // unknown key
        "version\toid sha256:OID size 12\n",
    ])
    func notPointers(text: String) {
        #expect(Pointer(Data(text.replacingOccurrences(of: "OID", with: Self.oid).utf8)) == nil, "\(text.debugDescription)")
    }

    @Test func tooLargeIsNotAPointer() {
        var text = "version https://git-lfs.github.com/spec/v1\noid sha256:\(Self.oid)\nsize 1\n"
        text += String(repeating: "\n", count: 1024 - text.utf8.count)
        #expect(Pointer(Data(text.utf8)) == nil)
    }

    @Test func binaryIsNotAPointer() {
        #expect(Pointer(Data([0xff, 0xfe, 0x00, 0x76])) == nil)
    }

    @Test func storePathsUseValidatedOIDs() {
        let store = ObjectStore(root: URL(fileURLWithPath: "/repo/.git/lfs"))
        #expect(store.path(for: Self.oid).path == "/repo/.git/lfs/objects/4d/7a/\(Self.oid)")
        #expect(Pointer(oid: "../x", size: 1) == nil)
    }
}
