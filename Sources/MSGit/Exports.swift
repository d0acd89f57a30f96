// The types of the LFS and HTTP targets that MSGit's public API names (events, dry-run plans,
// pointers, origins), re-exported one by one, so that `import MSGit` is all a caller writes and the
// rest of those targets stays out of the caller's namespace.
@_exported import struct HTTP.CredentialScope
@_exported import struct HTTP.Origin
@_exported import struct LFS.LFSEvent
@_exported import typealias LFS.LFSEventHandler
@_exported import struct LFS.Pointer
@_exported import struct LFS.WorkTreeFill

// Everything public of Credentials: URLs, credential providers, `MSGitError`, the redactor.
@_exported import Credentials
