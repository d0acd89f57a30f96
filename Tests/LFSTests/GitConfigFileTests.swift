import Testing
@testable import LFS

/// The part of git's configuration syntax `.lfsconfig` files use.
@Suite struct GitConfigFileTests {
    @Test func sectionsSubsectionsAndKeys() {
        let values = GitConfigFile.parse("""
            # a comment
            [LFS]
                URL = https://lfs.example/a
            [remote "Origin"]
                lfsurl = "https://lfs.example/quoted" ; trailing comment
            [lfs.Sub]
                key = value
            [core]
                bare
            """)
        #expect(values["lfs.url"] == "https://lfs.example/a", "section and key are lowercased")
        #expect(values["remote.Origin.lfsurl"] == "https://lfs.example/quoted", "a quoted subsection keeps its case")
        #expect(values["lfs.sub.key"] == "value", "the old [a.b] form is lowercased whole")
        #expect(values["core.bare"] == "true", "a key without a value is true")
    }

    @Test func quotingAndEscapes() {
        let values = GitConfigFile.parse("""
            [x]
                a = "one # not a comment" # a comment
                b = two\\tthree
                c = "four \\"five\\""
            """)
        #expect(values["x.a"] == "one # not a comment")
        #expect(values["x.b"] == "two\tthree")
        #expect(values["x.c"] == "four \"five\"")
    }

    @Test func linesOutsideASectionAreIgnored() {
        #expect(GitConfigFile.parse("url = https://x\n[lfs]\n").isEmpty)
    }
}
