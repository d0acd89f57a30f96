import Foundation
import Testing
@testable import LFS

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
