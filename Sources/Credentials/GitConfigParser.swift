import Foundation

/// git's configuration syntax, read as git's `config.c` reads it (`git_parse_source`, `get_base_var`,
/// `get_extended_base_var`, `get_value`, `parse_value`), byte for byte.
///
/// - `[section]` names are case-insensitive (lowercased); `[section "subsection"]` keeps the
///   subsection's case, and in it `\x` stands for `x` (so `\"` and `\\`); the legacy
///   `[section.subsection]` is lowercased whole, as git does.
/// - Keys start with a letter, hold letters, digits and `-`, and are lowercased.
/// - A value runs to the end of the line: `"` toggles quoting, `\n \t \b \" \\` are escapes,
///   a backslash before the end of the line continues the value on the next line, `#` and `;`
///   outside quotes start a comment, whitespace around the value is dropped (inside, kept).
/// - A key without `=` has no value (`nil`), which git reads as a boolean true.
/// - `\r\n` is a line end; a UTF-8 byte order mark at the start is skipped.
///
/// A line git cannot parse (an unknown escape, an unterminated quote, a key that does not start
/// with a letter, a broken section header) makes the whole file an error naming the file and the
/// line, as git refuses to run with such a file ("bad config line 3 in file ~/.gitconfig"): a
/// configuration msgit read differently from git would send a token where the user did not mean.
package struct GitConfigParser {
    /// One `name = value` as git hands it to its config callbacks: `name` is
    /// `section[.subsection].key` with the section and key lowercased.
    package struct Item: Equatable {
        var name: String
        var value: String?
        var line: Int
    }

    /// Why a file could not be read as git configuration, and where.
    package struct SyntaxError: Error, Equatable {
        var line: Int
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var eof = false

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The items of `bytes`, in order.
    package static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> [Item] {
        var parser = GitConfigParser(bytes)
        return try parser.items()
    }

    private static let newline = UInt8(ascii: "\n")

    /// The next character, with `\r\n` read as `\n` and the end of input as a final `\n` (which
    /// sets `eof`), as git's `get_next_char`. `line` is the line of the character returned.
    private mutating func next() -> UInt8 {
        if eof || index >= bytes.count {
            eof = true
            return Self.newline
        }
        if index > 0, bytes[index - 1] == Self.newline { line += 1 }
        var c = bytes[index]
        index += 1
        if c == UInt8(ascii: "\r"), index < bytes.count, bytes[index] == Self.newline {
            c = Self.newline
            index += 1
        }
        return c
    }

    private mutating func items() throws(SyntaxError) -> [Item] {
        var result: [Item] = []
        var stem: [UInt8] = []
        var comment = false
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while true {
            let c = next()
            if c == Self.newline {
                if eof { return result }
                comment = false
                continue
            }
            if comment { continue }
            if Self.isSpace(c) { continue }
            if c == UInt8(ascii: "#") || c == UInt8(ascii: ";") {
                comment = true
                continue
            }
            if c == UInt8(ascii: "[") {
                stem = try sectionHeader()
                stem.append(UInt8(ascii: "."))
                continue
            }
            guard Self.isAlpha(c) else { throw SyntaxError(line: line) }
            var name = stem + [Self.lower(c)]
            let item = try entry(&name)
            result.append(item)
        }
    }

    /// `[section]`, `[section "subsection"]` or `[section.subsection]`, after the `[`.
    private mutating func sectionHeader() throws(SyntaxError) -> [UInt8] {
        var name: [UInt8] = []
        while true {
            let c = next()
            if eof { throw SyntaxError(line: line) }
            if c == UInt8(ascii: "]") { break }
            if Self.isSpace(c) {
                try quotedSubsection(after: c, into: &name)
                break
            }
            guard Self.isKeyChar(c) || c == UInt8(ascii: ".") else { throw SyntaxError(line: line) }
            name.append(Self.lower(c))
        }
        guard !name.isEmpty else { throw SyntaxError(line: line) }
        return name
    }

    private mutating func quotedSubsection(after first: UInt8, into name: inout [UInt8]) throws(SyntaxError) {
        var c = first
        repeat {
            if c == Self.newline { throw SyntaxError(line: line) }
            c = next()
        } while Self.isSpace(c)
        guard c == UInt8(ascii: "\"") else { throw SyntaxError(line: line) }
        name.append(UInt8(ascii: "."))
        while true {
            var c = next()
            if c == Self.newline { throw SyntaxError(line: line) }
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                c = next()
                if c == Self.newline { throw SyntaxError(line: line) }
            }
            name.append(c)
        }
        guard next() == UInt8(ascii: "]") else { throw SyntaxError(line: line) }
    }

    /// The rest of a key, then `= value` or the end of the line.
    private mutating func entry(_ name: inout [UInt8]) throws(SyntaxError) -> Item {
        let startLine = line
        var c: UInt8
        while true {
            c = next()
            if eof { break }
            guard Self.isKeyChar(c) else { break }
            name.append(Self.lower(c))
        }
        while c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { c = next() }
        var value: String?
        if c != Self.newline {
            guard c == UInt8(ascii: "=") else { throw SyntaxError(line: line) }
            value = try self.value()
        }
        return Item(name: String(decoding: name, as: UTF8.self), value: value, line: startLine)
    }

    private mutating func value() throws(SyntaxError) -> String {
        var value: [UInt8] = []
        var quote = false
        var comment = false
        var trimLength = 0
        while true {
            var c = next()
            if c == Self.newline {
                if quote { throw SyntaxError(line: line) }
                if trimLength > 0 { value.removeSubrange(trimLength...) }
                return String(decoding: value, as: UTF8.self)
            }
            if comment { continue }
            if Self.isSpace(c) && !quote {
                if trimLength == 0 { trimLength = value.count }
                if !value.isEmpty { value.append(c) }
                continue
            }
            if !quote, c == UInt8(ascii: ";") || c == UInt8(ascii: "#") {
                comment = true
                continue
            }
            trimLength = 0
            if c == UInt8(ascii: "\\") {
                c = next()
                switch c {
                case Self.newline: continue
                case UInt8(ascii: "t"): c = UInt8(ascii: "\t")
                case UInt8(ascii: "b"): c = 0x08
                case UInt8(ascii: "n"): c = Self.newline
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): break
                default: throw SyntaxError(line: line)
                }
                value.append(c)
                continue
            }
            if c == UInt8(ascii: "\"") {
                quote.toggle()
                continue
            }
            value.append(c)
        }
    }

    /// C's `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
    package static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }
    package static func isAlpha(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
    package static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (0x30...0x39).contains(c) }
    /// git's `iskeychar`: letters, digits and `-`.
    package static func isKeyChar(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "-") }
    package static func lower(_ c: UInt8) -> UInt8 { (0x41...0x5A).contains(c) ? c + 0x20 : c }
}
