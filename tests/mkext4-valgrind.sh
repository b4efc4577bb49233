#!/bin/sh
# No leak and no invalid access on a small tree, from a directory and tar.
. "$(dirname "$0")/lib/tap.sh"
need valgrind 'checks memory'
ldd "$BIN/mkext4" 2>/dev/null | grep -q libasan && skip_all 'valgrind cannot run an ASan build'
need bsdtar 'writes the tar stream'

s=$T/src
mkdir -p "$s/d"
echo a > "$s/a"; ln "$s/a" "$s/d/b"; ln -s "$(printf 'x%.0s' $(seq 80))" "$s/long"
python3 -c "import os,sys; os.setxattr(sys.argv[1], 'user.v', b'v' * 1500)" "$s/a"
i=0; while [ $i -lt 300 ]; do : > "$s/d/file$i"; i=$((i + 1)); done
(cd "$s" && bsdtar --format=pax -cf "$T/src.tar" .)
vg='valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1'
ok 'directory input under valgrind' $vg mkext4 -o "$T/d.img" -J "$s"
ok 'tar input under valgrind' sh -c "$vg mkext4 -o \"\$1\" < \"\$2\"" sh "$T/t.img" "$T/src.tar"
fails 1 'a failing run under valgrind exits 1, not 2' sh -c "head -c 3000 \"\$2\" | $vg mkext4 -o \"\$1\"" sh "$T/f.img" "$T/src.tar"
done_testing
