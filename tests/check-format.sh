#!/usr/bin/env bash
# The C sources of lib/, tools/ and tests/ are as clang-format (with the
# tree's .clang-format) writes them. Prints clang-format's complaints, then
# the files that differ; "clang-format -i FILE" fixes one.
# Usage: check-format.sh SOURCE_ROOT [CLANG_FORMAT]
set -euo pipefail
root=$1 clang_format=${2:-clang-format}
cd "$root"
if ! command -v "$clang_format" >/dev/null; then
        echo "check-format.sh: $clang_format not found" >&2
        exit 77
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
                'lib/*.c' 'lib/*.h' 'tools/*.c' 'tools/*.h' 'tests/*.c' 'tests/*.h' 'tests/*.cc')
else
        mapfile -t files < <(find lib tools tests -name '*.c' -o -name '*.h' -o -name '*.cc' | sort)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bad=()
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        if ! "$clang_format" --dry-run -Werror "$f" 2>"$log"; then
                head -n 20 "$log"
                bad+=("$f")
        fi
done
if [ ${#bad[@]} -gt 0 ]; then
        echo
        echo "${#bad[@]} of ${#files[@]} files differ from clang-format ($("$clang_format" --version)):"
        printf '  %s\n' "${bad[@]}"
        exit 1
fi
echo "${#files[@]} files, all formatted"
