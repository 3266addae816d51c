// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every
// record batch. Uses the SSE4.2 crc32 instruction when the CPU has it and a
// slicing-by-8 table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mq::crc32c {

// Extends `crc` (the value returned for earlier bytes, 0 to start) with `data`.
uint32_t extend(uint32_t crc, const void* data, size_t size);
inline uint32_t value(const void* data, size_t size) {
  return extend(0, data, size);
}

// The two implementations, exposed so tests can check each against known vectors.
uint32_t extend_portable(uint32_t crc, const void* data, size_t size);
uint32_t extend_hardware(uint32_t crc, const void* data, size_t size);  // requires SSE4.2
bool hardware_available();

}  // namespace mq::crc32c
