#ifndef MSGIT_CLIBGIT2_SHIM_H
#define MSGIT_CLIBGIT2_SHIM_H

#include <git2.h>
#include <git2/sys/stream.h>

#endif
