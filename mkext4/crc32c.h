/* crc32c.h: CRC-32C (Castagnoli), as ext4's metadata_csum uses it: the
 * caller passes the running value (~0 to start) and gets it back without
 * the final inversion. */
#ifndef MKEXT4_CRC32C_H
#define MKEXT4_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
