/**
 * The exit codes of every command, as the help text documents them. A script can tell "done",
 * "done, but look at the dead-letter topic", "failed" and "wrong command line or configuration"
 * apart.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `import` finished, and some lines went to the dead-letter topic instead of the events topic. */
export const EXIT_DEAD_LETTERED = 3;
/** `status` shown, and something needs attention (an org no poller holds, a stale checkpoint, a sink behind, Elasticsearch down). */
export const EXIT_NEEDS_ATTENTION = 4;
