// The log command's JSON for one kernel log record, kept apart so that it can
// be tested on its own.
//
//   Json j = log_record_json(record);
//   // {"seq": 12, "timestamp_ns": 1177928000, "level": 6, "caller": "T1",
//   //  "text": "acpi PNP0A03:00: ...", "dict": {"SUBSYSTEM": "acpi", "DEVICE": "+acpi:PNP0A03:00"}}
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "commands/api/json_values.hpp"
#include "kernel-model/printk_log.hpp"

namespace kdive {

// The record's caller as the kernel prints it with CONFIG_PRINTK_CALLER:
// "T<pid>" for a task, "C<cpu>" for interrupt context; nullopt when the log
// does not record callers.
std::optional<std::string> caller_name(std::optional<uint32_t> caller_id);

// {seq, timestamp_ns, level, caller, text, dict}: the text without its final
// newline (later lines of a multi-line record stay in it), the dictionary as
// an object of its KEY=value entries; level and caller are null when unknown.
Json log_record_json(const LogRecord& record);

}  // namespace kdive
