import Foundation
import HTTP
import Testing
@testable import LFS

@Suite struct SegmentedDownloadTests {
    @Test func contentRange() throws {
        let range = try #require(ContentRange("bytes 100-199/1000"))
        #expect(range.start == 100 && range.end == 199 && range.total == 1000)
        #expect(ContentRange("bytes 0-0/*")?.total == nil)
        #expect(ContentRange("bytes 5-1/10") == nil)
        #expect(ContentRange("items 0-1/2") == nil)
        #expect(ContentRange(nil) == nil)
    }

    @Test func segmentSizes() {
        let downloader = ObjectDownloader(store: ObjectStore(root: URL(fileURLWithPath: "/x")), http: HTTPClient(),
                                          endpoint: URL(string: "http://h/x")!, scope: nil,
                                          maximumSegment: 64 << 20, retry: RetryPolicy(), space: .shared,
                                          logger: .init(label: "t"))
        #expect(downloader.segmentSize(for: 24 << 20) == 4 << 20)
        #expect(downloader.segmentSize(for: 256 << 20) == 32 << 20)
        #expect(downloader.segmentSize(for: 1 << 30) == 64 << 20)
    }
}
