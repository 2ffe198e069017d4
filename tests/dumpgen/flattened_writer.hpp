// Writes makedumpfile's flattened stream: a 4096-byte header, then big-endian
// {offset, size} records with their data, then the {-1, -1} end marker. Either
// from a finished file (chunked, optionally reordered, sparse or damaged as a
// FlattenSpec says) or from hand-made records for tests of the format itself.
//
//   auto stream = flatten(kdump_bytes, spec);
//   auto odd = flatten_records({{0, bytes}, {4096, more}, {0, overwrite}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tests/dumpgen/description.hpp"

namespace kdive::dumpgen {

struct FlatRecord {
  int64_t offset;
  std::vector<std::byte> data;
  std::optional<int64_t> size;  // written instead of data.size() (damage)
};

// The stream header alone (type 1, version `version`).
std::vector<std::byte> flattened_header(int64_t version = 1);

std::vector<std::byte> flatten_records(const std::vector<FlatRecord>& records, bool end_marker = true);

std::vector<std::byte> flatten(const std::vector<std::byte>& file, const FlattenSpec& spec);

}  // namespace kdive::dumpgen
