#if canImport(Glibc)
import Glibc
#endif
import MSGitCommands

#if canImport(Glibc)
// glibc gives each thread that allocates an arena of its own (up to 8 per core), and streamed LFS
// downloads allocate on several threads at once: two arenas keep ~20 MiB of freed chunks from
// staying resident (a model clone: 80-87 MiB peak RSS instead of 91-115). Set before any thread
// starts. mallopt is declared in <malloc.h>, which Swift's Glibc module leaves out, hence dlsym.
// Services embedding the library choose their own allocator settings.
if let mallopt = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
    let M_ARENA_MAX: Int32 = -8
    _ = unsafeBitCast(mallopt, to: (@convention(c) (Int32, Int32) -> Int32).self)(M_ARENA_MAX, 2)
}
#endif

await MSGitCommand.runMain()
