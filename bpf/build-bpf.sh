#!/usr/bin/env bash
# Compiles every *.bpf.c under SRC_DIR into OUT_DIR/<name>.bpf.o (clang -target bpf -O2 -g).
# Called by Maven; a compile error fails the build.
set -euo pipefail
src_dir=$1
out_dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v clang >/dev/null || { echo "build-bpf: clang not found (./dynoplane installs it: apt-get install clang)" >&2; exit 1; }
multiarch=$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")
mkdir -p "$out_dir"
shopt -s nullglob
for src in "$src_dir"/*.bpf.c; do
  obj="$out_dir/$(basename "${src%.c}").o"
  # Rebuild only what changed: the object is older than its source or any shared header.
  if [ -f "$obj" ] && [ -z "$(find "$src" "$here/include" -newer "$obj" -print -quit)" ]; then continue; fi
  clang -target bpf -O2 -g -Wall -Werror \
    -I"$here/include" -I"/usr/include/$multiarch" \
    -c "$src" -o "$obj"
done
