// The command line of the kernel kdive-kexec loads, derived from the running
// kernel's (/proc/cmdline) the way the kdump documentation asks: the capture
// kernel gets the running command line minus the options that only make
// sense for the first boot (crashkernel= would reserve memory again inside
// the reservation; BOOT_IMAGE= and initrd= are the boot loader's) plus
// `irqpoll nr_cpus=1 reset_devices`: one CPU is enough to save a dump,
// irqpoll survives interrupts routed to CPUs that are gone, and reset_devices
// asks drivers to reset hardware the crashed kernel left busy.
//
//   std::string line = capture_command_line("BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M quiet");
//   // "root=/dev/vda1 quiet irqpoll nr_cpus=1 reset_devices"
//   std::string fast = reused_command_line(running);          // for -l: minus BOOT_IMAGE=, initrd=
//   std::string more = append_options(fast, "kdive-marker=42"); // before any "--"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kdive::capture {

// The options the capture kernel gets on top of the running ones.
inline constexpr std::string_view kCaptureOptions = "irqpoll nr_cpus=1 reset_devices";

// Splits a kernel command line into words as the kernel does: blanks separate
// them, double quotes group (param="a b" stays one word, quotes kept).
std::vector<std::string> split_command_line(std::string_view line);
std::string join_command_line(const std::vector<std::string>& words);

// The option name of a word: "crashkernel" of "crashkernel=256M", the word
// itself for a flag ("quiet").
std::string_view option_name(std::string_view word);

// RUNNING without BOOT_IMAGE= and initrd= (what --reuse-cmdline means).
std::string reused_command_line(std::string_view running);

// RUNNING without crashkernel=, BOOT_IMAGE= and initrd=, with kCaptureOptions
// (an option of the same name already there, e.g. nr_cpus=8, is replaced).
std::string capture_command_line(std::string_view running);

// LINE with the words of EXTRA added as kernel options: before a "--" (what
// follows it is init's arguments), at the end otherwise.
std::string append_options(std::string_view line, std::string_view extra);

// The crashkernel= words of LINE, space-separated ("crashkernel=512M-2G:64M,2G-:128M
// crashkernel=72M,low" …), or nullopt when there is none.
std::optional<std::string> crashkernel_options(std::string_view line);

// "256M", "1G", "64K", "4096" → bytes; nullopt when not a size.
std::optional<uint64_t> parse_size(std::string_view text);

// Bytes as a crashkernel= size ("80M", "1G"), rounded up to whole MiB.
std::string crashkernel_size(uint64_t bytes);

// Bytes for people: "80 MiB", "1.5 GiB", "512 KiB".
std::string human_size(uint64_t bytes);

}  // namespace kdive::capture
