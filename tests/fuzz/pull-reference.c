/* libFuzzer target: oci-pull's reference parser (oci-pull/ref.c). Every
 * accepted reference must round-trip: its normalised name parses again
 * to itself, and its digest, if any, is a valid alg:hex. */
#include "ref.h"
#include "digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	struct ref r, r2;
	struct digest d;

	memcpy(s, data, size);
	s[size] = '\0';
	if (ref_parse(s, &r, err, sizeof err) == 0) {
		if (r.digest && digest_parse(r.digest, &d) != 0)
			abort();
		if (ref_parse(r.name, &r2, err, sizeof err) != 0 || strcmp(r.name, r2.name))
			abort();
		ref_free(&r2);
		ref_free(&r);
	}
	free(s);
	return 0;
}
