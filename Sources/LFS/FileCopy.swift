import Foundation

/// Copies `count` bytes from the current offset of `input` to `output` at `offset`: with
/// copy_file_range(2) (one copy, in the kernel), else through a buffer.
func copyRange(from input: Int32, to output: Int32, count: Int64, at offset: Int64, name: String) throws {
    var outOffset = offset
    var remaining = count
    var useKernel = copyFileRangeFunction != nil
    var buffer: [UInt8] = []
    while remaining > 0 {
        if useKernel {
            let n = copyFileRangeFunction!(input, nil, output, &outOffset, Int(min(remaining, 1 << 30)), 0)
            if n > 0 {
                remaining -= Int64(n)
                continue
            }
            if n == 0 { break }
            if errno == EINTR { continue }
            if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF {
                useKernel = false
                continue
            }
            throw LFSError(.io, "cannot write \(name): \(String(cString: strerror(errno)))")
        }
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 1 << 20) }
        let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, Int(min(remaining, Int64($0.count)))) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw LFSError(.io, "cannot read for \(name): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < n {
            let w = buffer.withUnsafeBytes { pwrite(output, $0.baseAddress! + written, n - written, off_t(outOffset)) }
            if w < 0 {
                if errno == EINTR { continue }
                throw LFSError(.io, "cannot write \(name): \(String(cString: strerror(errno)))")
            }
            written += w
            outOffset += Int64(w)
        }
        remaining -= Int64(n)
    }
    guard remaining == 0 else { throw LFSError(.io, "cannot write \(name): the source ended early") }
}

/// copy_file_range(2), looked up at run time: Glibc's Swift module does not export it.
let copyFileRangeFunction: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32,
                                                     UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32,
                                                      UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int).self)
}()
