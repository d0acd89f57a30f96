import GitCore
import Testing

/// When a fresh checkout may leave libgit2's filters off: only when no attribute file and no
/// setting can ask for a conversion. A wrong "false" here would write LF where git writes CRLF.
@Suite struct ContentConversionTests {
    @Test(arguments: [
        "*.txt text\n",
        "*.txt text=auto\n",
        "* eol=crlf\n",
        "*.sh eol=lf\n",
        "*.c ident\n",
        "*.bat crlf\n",
        "*.txt working-tree-encoding=UTF-16\n",
        "[attr]mytext text eol=crlf\n",
        "\"with space.txt\" text\n",
        "*.bin filter=lfs -text\n\t*.md\ttext\n",
        "*.md diff\r\n*.txt text\r\n",
        "\"unterminated text\n",
    ])
    func settingAConvertingAttributeMayConvert(_ attributes: String) {
        #expect(ContentConversion.attributesMayConvert(attributes), "\(attributes)")
    }

    @Test(arguments: [
        "",
        "# *.txt text\n",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
        "*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.gguf filter=lfs diff=lfs merge=lfs -text\n",
        "*.png binary\n",
        "*.txt !text -eol -ident -crlf\n",
        "*.md diff=markdown linguist-documentation\n",
        "text.txt -text\n",
        "\"text eol.txt\" -text\n",
        "*.json textual=yes eolish\n",
    ])
    func unsettingOrOtherAttributesDoNot(_ attributes: String) {
        #expect(!ContentConversion.attributesMayConvert(attributes), "\(attributes)")
    }

    @Test func autocrlfConvertsUnlessUnsetOrFalse() {
        #expect(!ContentConversion.autocrlfMayConvert(nil))
        for off in ["false", "False", "no", "off", "0", ""] {
            #expect(!ContentConversion.autocrlfMayConvert(off), "\(off)")
        }
        for on in ["true", "input", "yes", "1", "something-new"] {
            #expect(ContentConversion.autocrlfMayConvert(on), "\(on)")
        }
    }
}
