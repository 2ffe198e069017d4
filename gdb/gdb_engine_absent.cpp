// The engine of a kdive built without GDB (-DKDIVE_GDB=OFF, and always in the
// sanitizer and fuzz builds): it says so, and nothing starts.
#include "gdb/gdb_engine.hpp"

namespace kdive {
namespace {

[[noreturn]] void absent() {
  throw GdbError("kdive was built without GDB (configure with -DKDIVE_GDB=ON and run scripts/build-gdb)");
}

}  // namespace

bool gdb_engine_built_in() { return false; }
void gdb_engine_initialize() { absent(); }
bool gdb_engine_initialized() { return false; }
void gdb_engine_load(const std::string&, uint64_t, GdbHost*) { absent(); }
bool gdb_engine_loaded() { return false; }
bool gdb_engine_knows_command(const std::string&) { return false; }
std::string gdb_engine_command_name(const std::string&) { absent(); }
std::string gdb_engine_execute(const std::string&) { absent(); }
void gdb_engine_registers_changed() {}

}  // namespace kdive
