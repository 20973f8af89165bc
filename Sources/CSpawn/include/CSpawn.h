#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>

/// Starts `path` (an absolute path, never looked up in PATH) with `argv` and `envp` in a new session
/// (POSIX_SPAWN_SETSID), stdin from /dev/null, stdout to `output_fd` and stderr to `error_fd`, no other descriptor inherited,
/// every signal unblocked and the usual ones at their default action, in `directory` when it is not NULL.
/// Stores the child's pid in `pid` and returns 0, or returns an errno value.
/// In C because Swift's Glibc module hides glibc's GNU spawn extensions (POSIX_SPAWN_SETSID, addchdir_np,
/// addclosefrom_np).
int cspawn_session(const char *path, char *const argv[], char *const envp[], const char *directory, int output_fd,
                   int error_fd, pid_t *pid);

#endif
