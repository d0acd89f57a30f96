@testable import GitCore
import Testing

/// Side-band text arrives in packets that may end anywhere; lines leave whole, so that a token a
/// hook echoes is never split between two log lines, each too short for the redactor to know.
@Suite struct ServerLinesTests {
    func feed(_ parts: [String], into lines: inout ServerLines) -> [String] {
        parts.flatMap { part in Array(part.utf8).withUnsafeBytes { lines.append($0) } }
    }

    @Test func aLineSplitAcrossPacketsLeavesWhole() {
        var lines = ServerLines()
        let out = feed(["seen Authorization: Basic b2F1dGgy", "OmhlbGxv\ndecl", "ined\r\n\nlast"], into: &lines)
        #expect(out == ["seen Authorization: Basic b2F1dGgyOmhlbGxv", "declined"])
        #expect(lines.finish() == "last")
        #expect(lines.finish() == nil)
    }

    @Test func aMultibyteCharacterSplitAcrossPacketsIsKept() {
        var lines = ServerLines()
        let bytes = Array("größe\n".utf8)
        var out = bytes[..<3].withUnsafeBytes { lines.append($0) }
        out += bytes[3...].withUnsafeBytes { lines.append($0) }
        #expect(out == ["größe"])
    }

    @Test func aLineWithoutEndIsLeftOutNotSplit() {
        var lines = ServerLines()
        let long = String(repeating: "x", count: ServerLines.limit + 10)
        let out = feed([long, "\nnext\n"], into: &lines)
        #expect(out.count == 2)
        #expect(out[0].hasPrefix("(a line of more than"))
        #expect(!out[0].contains("xxxx"))
        #expect(out[1] == "next")
    }
}
