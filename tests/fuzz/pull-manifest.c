/* libFuzzer target: oci-pull's manifest and index parser
 * (oci-pull/manifest.c) and platform selection, on untrusted bytes. */
#include "manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	struct manifest m;
	struct platform p;

	memcpy(s, data, size);
	s[size] = '\0';
	if (manifest_parse(s, size, size & 1 ? MT_OCI_MANIFEST : "", &m, err, sizeof err) == 0) {
		platform_host(&p);
		if (m.kind == MT_INDEX)
			manifest_select(&m, &p);
		for (size_t i = 0; i < m.nlayers; i++)
			if (m.layers[i].kind != MT_LAYER && m.layers[i].kind != MT_LAYER_NONDIST)
				abort();
		manifest_free(&m);
	}
	free(s);
	return 0;
}
