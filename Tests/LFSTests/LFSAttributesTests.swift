import Foundation
import Testing
@testable import LFS

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
