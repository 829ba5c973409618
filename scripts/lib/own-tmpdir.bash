# Sourced by scripts that run builds and tests: everything the run puts in the
# temporary directory (SwiftPM leaves a directory behind for every build it
# runs; fixtures, scratch files) goes into a directory of the run's own,
# exported as TMPDIR, so nothing is left in /tmp.
#
# Usage: own_tmpdir                     removed when the script exits
#        own_tmpdir --keep-on-failure   removed when it exits 0, else kept and named
own_tmpdir() {
    TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/pincer-$(basename "$0").XXXXXX")"
    export TMPDIR
    if [ "${1:-}" = --keep-on-failure ]; then
        trap 'status=$?; if [ "$status" -eq 0 ]; then rm -rf "$TMPDIR"; else echo "$(basename "$0"): temporary files kept in $TMPDIR" >&2; fi' EXIT
    else
        trap 'rm -rf "$TMPDIR"' EXIT
    fi
}
