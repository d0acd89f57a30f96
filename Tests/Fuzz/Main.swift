import Foundation

#if FUZZING
// Built with `.ci/fuzz` (libFuzzer, `-sanitize=fuzzer`): the target comes from MSGIT_FUZZ_TARGET.

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

nonisolated(unsafe) private var selected: FuzzTarget = .pointer

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM links an executable's entry point as `<module>_main`; libFuzzer's driver runs from it.
@_cdecl("msgit_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let name = ProcessInfo.processInfo.environment["MSGIT_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set MSGIT_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        return 2
    }
    selected = target
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
#else
/// Without libFuzzer: runs every file of the committed corpora (and the crashes fuzzing found,
/// fixed since) through its target, as a regression run: `msgit-fuzz [corpus-root]`.
@main
struct Replay {
    static func main() {
        let root = CommandLine.arguments.dropFirst().first
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("corpus").path
        var ran = 0
        for target in FuzzTarget.allCases {
            let directory = root + "/" + target.rawValue
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
                guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
                target.run(Array(data))
                ran += 1
            }
        }
        print("msgit-fuzz: \(ran) inputs replayed through \(FuzzTarget.allCases.count) targets")
    }
}
#endif
