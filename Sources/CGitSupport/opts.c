/* Non-variadic wrappers for git_libgit2_opts, which Swift cannot call directly. */
#include "msgit_support.h"

#include <git2.h>

int msgit_opts_set_ssl_cert_locations(const char *file, const char *path)
{
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}

int msgit_opts_set_user_agent(const char *user_agent)
{
    return git_libgit2_opts(GIT_OPT_SET_USER_AGENT, user_agent);
}

int msgit_opts_set_owner_validation(int enabled)
{
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

int msgit_opts_set_mwindow_mapped_limit(size_t limit)
{
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, limit);
}

int msgit_opts_set_strict_hash_verification(int enabled)
{
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}
