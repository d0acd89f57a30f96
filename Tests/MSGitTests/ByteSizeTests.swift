import Foundation
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct ByteSizeTests {
    @Test func sizesAsPeopleWriteThem() {
        #expect(ByteSize.parse("1048576") == 1_048_576)
        #expect(ByteSize.parse("1MiB") == 1_048_576 && ByteSize.parse("1M") == 1_048_576)
        #expect(ByteSize.parse("500KB") == 500_000 && ByteSize.parse("500 kib") == 512_000)
        #expect(ByteSize.parse("1.5GB") == 1_500_000_000)
        for bad in ["", "lots", "-1", "1XB", "MB"] { #expect(ByteSize.parse(bad) == nil, "\(bad)") }
    }
}
