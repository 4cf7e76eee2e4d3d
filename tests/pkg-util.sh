# Sourced by check-packaging.sh and check-pkg-rpm.sh (from the top of the
# source tree): step prints the name of a step and the seconds since the
# script began; source_files lists the source tree's files, NUL-separated.
t0=$SECONDS
step() { printf '== %s (%ds)\n' "$*" $((SECONDS - t0)); }
# From git when this is a checkout (tracked and untracked, not ignored),
# else everything but builds and .git.
source_files() {
        if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
                git ls-files -z -c -o --exclude-standard
        else
                find . \( -name .git -o -name 'build*' -o -name 'obj-*' \) -prune -o \
                        -type f -printf '%P\0'
        fi
}
