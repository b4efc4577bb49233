#!/bin/sh
# vminit runs a container's processes with exact exit status, separate
# complete stdout and stderr, stdin, and errors that name the failed step.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/lib/vminit.sh"

vminit_up || { echo 'Bail out! vminit did not start'; exit 1; }
C=ctr-$$-a
ctr_up $C --hostname box1 || { echo 'Bail out! container did not start'; exit 1; }

fails 0 'exit 0' vx -c $C -n -- true
fails 1 'exit 1' vx -c $C -n -- false
fails 255 'exit 255' vx -c $C -n -- sh -c 'exit 255'
fails 137 'killed by SIGKILL is 137' vx -c $C -n -- sh -c 'kill -KILL $$'
fails 143 'killed by SIGTERM is 143' vx -c $C -n -- sh -c 'kill -TERM $$'

out=$(vx -c $C -n -- sh -c 'echo out; echo err >&2' 2>"$T/err")
is "$out" out 'stdout on stdout'
is "$(cat "$T/err")" err 'stderr on stderr'

vx -c $C -n -- sh -c 'head -c 104857600 /dev/zero; head -c 104857600 /dev/zero | tr "\0" x >&2' \
	>"$T/o" 2>"$T/e"
is "$(stat -c %s "$T/o") $(stat -c %s "$T/e")" '104857600 104857600' '100 MB through stdout and stderr each'
is "$(tr -d '\0' <"$T/o" | wc -c) $(tr -d x <"$T/e" | wc -c)" '0 0' 'and not mixed'

head -c 1000000 /dev/urandom >"$T/in"
vx -c $C -- cat <"$T/in" >"$T/in.out"
ok 'stdin reaches the process, EOF ends it' cmp "$T/in" "$T/in.out"

vx -c $C -n -- no-such-binary 2>"$T/err"; st=$?
is $st 127 'missing binary: 127'
like "$(cat "$T/err")" 'exec no-such-binary: No such file or directory' 'missing binary: the error names the step'

vx -c $C -n -u nosuchuser -- true 2>"$T/err"; st=$?
is $st 125 'unknown user: 125'
like "$(cat "$T/err")" 'user nosuchuser: no such user in /etc/passwd' 'unknown user: named'

vx -c $C -n -w /does/not/exist -- pwd >"$T/o"
is "$(cat "$T/o")" /does/not/exist 'a missing working directory is created'

vx -c ctr-$$-b --create --rootfs /nonexistent -n -- true 2>"$T/err"; st=$?
is $st 125 'bad rootfs fails the create'
like "$(cat "$T/err")" 'create ctr-'"$$"'-b: rootfs /nonexistent: No such file or directory' 'and names the step'

fails 125 'a process in an unknown container fails' vx -c nosuch -n -- true
done_testing
