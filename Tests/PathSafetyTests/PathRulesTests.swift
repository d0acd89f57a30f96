import PathSafety
import Testing

/// The names git refuses to check out (t/t0060-path-utils.sh's is_ntfs_dotgit and
/// is_hfs_dotgit cases, t/t7415-submodule-names.sh's .gitmodules aliases) and the ones it accepts.
@Suite struct PathRulesTests {
    func refused(_ name: String, symlink: Bool = false) -> Bool {
        PathRules.problem(withName: Array(name.utf8), isSymlink: symlink) != nil
    }

    @Test func dotGitInEveryDisguiseIsRefused() {
        for name in [".git", ".GIT", ".gIt", ".git.", ".git ", ".git . .", ".git::$INDEX_ALLOCATION", ".git:stream",
                     "git~1", "GIT~1", "git~1.", "git~1 ", ".g\u{200C}it", ".GIT\u{FEFF}", "\u{200E}.git",
                     ".gi\u{206F}t", "a\\.git", "foo\\git~1"] {
            #expect(refused(name), "\(name.debugDescription)")
        }
    }

    @Test func namesThatOnlyLookLikeDotGitAreAccepted() {
        for name in [".gitignore", ".git-credentials", ".gitx", "git", "git~2", "git~10", ".git_", "x.git", "git~1x",
                     "README.md", "model.safetensors", ".gitmodulesx", "gitmod~5", "\u{200C}README"] {
            #expect(!refused(name), "\(name.debugDescription)")
        }
    }

    @Test func emptyDotAndSlashNamesAreRefused() {
        #expect(refused(""))
        #expect(refused("."))
        #expect(refused(".."))
        #expect(refused("up/victim.rc"))
        #expect(refused("a\0b"))
        #expect(refused(String(repeating: "x", count: 256)))
        #expect(!refused("..."), "three dots are an ordinary name for git")
        #expect(!refused(".hidden"))
    }

    @Test func configurationFilesMayNotBeSymbolicLinks() {
        for name in [".gitmodules", ".GITMODULES", ".gitmodules.", ".gitmodules ::$DATA", "gitmod~1", "GITMOD~4",
                     "gi7eba~1", "gi7eb~12", ".gitm\u{200C}odules", ".gitattributes", "gitatt~1", "gi7d29~1",
                     ".lfsconfig", ".LFSCONFIG", ".lfsconfig.", "lfscon~1"] {
            #expect(refused(name, symlink: true), "\(name.debugDescription)")
            #expect(!refused(name, symlink: false), "\(name.debugDescription) as a file is fine")
        }
        for name in [".gitignore", ".mailmap", "latest", "gitmod~5", "gi7eba~0"] {
            #expect(!refused(name, symlink: true), "\(name.debugDescription)")
        }
    }

    @Test func pathsAreCheckedComponentByComponent() {
        #expect(PathRules.problem(withPath: "weights/part-1.bin") == nil)
        #expect(PathRules.problem(withPath: "docs/nested/deep/notes with spaces.txt") == nil)
        for path in ["", "/etc/passwd", "a//b", "a/", "../x", "a/../../x", "a/./b", ".git/config", "sub/.GIT/hooks/x",
                     "sub/git~1/x", String(repeating: "a/", count: 2100) + "x"] {
            #expect(PathRules.problem(withPath: path) != nil, "\(path.prefix(40).debugDescription)")
        }
    }

    @Test func foldingFindsWhatCaseInsensitiveFileSystemsMerge() {
        #expect(PathRules.folded(Array("Models".utf8)) == PathRules.folded(Array("models".utf8)))
        #expect(PathRules.folded(Array("up.".utf8)) == PathRules.folded(Array("UP".utf8)))
        #expect(PathRules.folded(Array("u\u{200D}p".utf8)) == PathRules.folded(Array("up".utf8)))
        #expect(PathRules.folded(Array("a.bin".utf8)) != PathRules.folded(Array("a.bim".utf8)))
    }

    @Test func namePartsFromTheNetworkAreOneComponent() {
        for part in ["ns", "my-model_v2.1", "Qwen2.5-7B", "模型"] {
            #expect(PathRules.problem(withNamePart: part) == nil, "\(part)")
        }
        for part in ["", ".", "..", "...", "../../escaped", "a/b", "a\\b", "x\0y", "x\ny", ".git", ".GIT.",
                     String(repeating: "n", count: 300)] {
            #expect(PathRules.problem(withNamePart: part) != nil, "\(part.prefix(20).debugDescription)")
        }
    }
}
