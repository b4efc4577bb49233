/* tap.h: the Test Anything Protocol for the C unit tests, one copy for all.
 * ok() counts and prints a result, is_int/is_str add a diagnosis when they
 * fail, done_testing() prints the plan and gives main's exit status. */
#ifndef CZ_TEST_TAP_H
#define CZ_TEST_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void ok(int cond, const char *what)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond)
		tap_failed++;
}

static inline void is_int(long got, long want, const char *what)
{
	ok(got == want, what);
	if (got != want)
		printf("# got %ld, want %ld\n", got, want);
}

static inline void is_str(const char *got, const char *want, const char *what)
{
	int same = got && !strcmp(got, want);

	ok(same, what);
	if (!same)
		printf("# got '%s', want '%s'\n", got ? got : "(null)", want);
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
