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

@Suite struct PathFilterTests {
    @Test func unanchoredPatternsMatchAtAnyDepth() {
        let filter = PathFilter(include: ["*.bin"])
        #expect(filter.allows("model.bin"))
        #expect(filter.allows("a/b/model.bin"))
        #expect(!filter.allows("model.safetensors"))
    }

    @Test func directoriesMatchEverythingBelow() {
        for pattern in ["weights", "weights/", "/weights"] {
            let filter = PathFilter(include: [pattern])
            #expect(filter.allows("weights/a.bin"), "\(pattern)")
            #expect(filter.allows("weights/deep/a.bin"), "\(pattern)")
            #expect(!filter.allows("other/a.bin"), "\(pattern)")
        }
        #expect(PathFilter(include: ["weights"]).allows("sub/weights/a.bin"), "unanchored directory names match at depth")
        #expect(!PathFilter(include: ["/weights"]).allows("sub/weights/a.bin"))
    }

    @Test func anchoredAndDoubleStar() {
        #expect(PathFilter(include: ["models/*.bin"]).allows("models/a.bin"))
        #expect(!PathFilter(include: ["models/*.bin"]).allows("x/models/a.bin"))
        #expect(!PathFilter(include: ["models/*.bin"]).allows("models/sub/a.bin"))
        #expect(PathFilter(include: ["**/onnx/*.onnx"]).allows("a/b/onnx/m.onnx"))
        #expect(PathFilter(include: ["**/onnx/*.onnx"]).allows("onnx/m.onnx"))
        #expect(PathFilter(include: ["models/**"]).allows("models/a/b/c"))
        #expect(PathFilter(include: ["model-?.bin"]).allows("model-1.bin"))
        #expect(PathFilter(include: ["model-[0-9].bin"]).allows("model-7.bin"))
        #expect(!PathFilter(include: ["model-[!0-9].bin"]).allows("model-7.bin"))
    }

    @Test func excludeWinsOverInclude() {
        let filter = PathFilter(include: ["weights/"], exclude: ["*.tmp", "weights/old"])
        #expect(filter.allows("weights/a.bin"))
        #expect(!filter.allows("weights/a.tmp"))
        #expect(!filter.allows("weights/old/a.bin"))
    }

    @Test func commaSeparatedLists() {
        #expect(PathFilter.patterns(" *.bin, weights/ ,,") == ["*.bin", "weights/"])
        #expect(PathFilter.patterns(nil).isEmpty)
        #expect(PathFilter().allows("anything"))
    }
}

@Suite struct EndpointTests {
    @Test func derivedFromTheRemoteURL() {
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name.git")?.absoluteString == "https://hub/ns/name.git/info/lfs")
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name")?.absoluteString == "https://hub/ns/name.git/info/lfs")
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name/")?.absoluteString == "https://hub/ns/name.git/info/lfs")
    }

    @Test func configurationWinsOverLfsconfigWhichWinsOverTheRemote() {
        let lfsconfig = "[lfs]\n\turl = \"https://lfs.example/from-file\" # comment\n"
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", lfsconfig: lfsconfig)?.absoluteString
            == "https://lfs.example/from-file")
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", config: ["lfs.url": "https://lfs.example/git"],
                                 lfsconfig: lfsconfig)?.absoluteString == "https://lfs.example/git")
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", remoteName: "upstream",
                                 config: ["remote.upstream.lfsurl": "https://lfs.example/r"])?.absoluteString
            == "https://lfs.example/r")
        let remoteSection = "[remote \"origin\"]\n  lfsurl = https://lfs.example/o\n"
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", lfsconfig: remoteSection)?.absoluteString
            == "https://lfs.example/o")
    }
}

@Suite struct HTTPDetailTests {
    @Test func contentRange() throws {
        let range = try #require(ContentRange("bytes 100-199/1000"))
        #expect(range.start == 100 && range.end == 199 && range.total == 1000)
        #expect(ContentRange("bytes 0-0/*")?.total == nil)
        #expect(ContentRange("bytes 5-1/10") == nil)
        #expect(ContentRange("items 0-1/2") == nil)
        #expect(ContentRange(nil) == nil)
    }

    @Test func retryAfter() {
        #expect(RetryPolicy.retryAfter("3") == .seconds(3))
        #expect(RetryPolicy.retryAfter(" 0 ") == .seconds(0))
        #expect(RetryPolicy.retryAfter("soon") == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        let date = formatter.string(from: Date().addingTimeInterval(10))
        let wait = RetryPolicy.retryAfter(date)
        #expect(wait != nil && wait! > .seconds(8) && wait! <= .seconds(10))
    }

    @Test func segmentSizes() {
        let downloader = ObjectDownloader(store: ObjectStore(root: URL(fileURLWithPath: "/x")), http: HTTPClient(),
                                          endpoint: URL(string: "http://h/x")!, hubAuthorization: nil,
                                          maximumSegment: 64 << 20, retry: RetryPolicy(), space: .shared,
                                          logger: .init(label: "t"))
        #expect(downloader.segmentSize(for: 24 << 20) == 4 << 20)
        #expect(downloader.segmentSize(for: 256 << 20) == 32 << 20)
        #expect(downloader.segmentSize(for: 1 << 30) == 64 << 20)
    }
}

@Suite struct LFSAttributesTests {
    @Test func patternsAsGitMatchesThem() {
        let attributes = LFSAttributes("""
            *.bin filter=lfs diff=lfs merge=lfs -text
            /models/*.pt filter=lfs -text
            weights/** filter=lfs
            dir filter=lfs
            *.txt text
            keep.bin -filter
            """)
        #expect(attributes.isLFS("a.bin") && attributes.isLFS("x/y/a.bin"))
        #expect(attributes.isLFS("models/m.pt") && !attributes.isLFS("x/models/m.pt"))
        #expect(attributes.isLFS("weights/a/b.dat"))
        #expect(!attributes.isLFS("dir/file"), "a pattern naming a directory does not match inside it")
        #expect(!attributes.isLFS("notes.txt"))
        #expect(!attributes.isLFS("keep.bin"), "the last matching line decides")
    }

    @Test func trackLinesMatchExactlyTheirPath() {
        let line = LFSAttributes.trackLine(for: "data/notes with [brackets]*.bin")
        #expect(line == "/data/notes[[:space:]]with[[:space:]]\\[brackets\\]\\*.bin filter=lfs diff=lfs merge=lfs -text")
        let attributes = LFSAttributes(line)
        #expect(attributes.isLFS("data/notes with [brackets]*.bin"))
        #expect(!attributes.isLFS("data/notes with [brackets]x.bin"))
        #expect(!attributes.isLFS("other/data/notes with [brackets]*.bin"))
    }
}
