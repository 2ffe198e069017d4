// Running the capture service's helper programs (kdive-dump, kdive-kexec, the
// post-save hook, a pipe: target's command) without a shell: the capture
// initramfs has none, and a path with a space must stay one argument.
//
//   int rc = run_program({"/usr/bin/kdive-dump", "-d", "31", "-c", src, dst});
//   int rc2 = run_pipeline({"kdive-dump", "-F", src}, {"ssh", "host", "kdive-dump", "-R", "x"});
//   std::string exe = find_program("kdive-dump");   // beside this program, then $PATH
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kdive::capture {

// The exit status of a finished program (128 + signal if killed, 127 if it
// could not be started — the shell's conventions).
int run_program(const std::vector<std::string>& argv,
                const std::vector<std::pair<std::string, std::string>>& extra_env = {});

// WRITER's standard output into READER's standard input; the first non-zero
// status of the two (the writer's first), 0 when both succeed.
int run_pipeline(const std::vector<std::string>& writer, const std::vector<std::string>& reader,
                 const std::vector<std::pair<std::string, std::string>>& extra_env = {});

// NAME resolved: a path as given; else the directory of the running program
// (the three kdive capture programs are installed together), then $PATH.
// Empty when not found.
std::string find_program(const std::string& name);

// The running program's own file (/proc/self/exe).
std::string self_executable();

// Splits a command line on blanks (no quoting: what the config's commands need).
std::vector<std::string> split_command(const std::string& command);

// `kdive-capture write PATH`: copies IN_FD to the existing PATH (a
// virtio-serial port, a tty, a named pipe, a file), waiting up to
// WAIT_SECONDS for it to appear (a port's device node comes after its
// driver's probe). Never creates PATH: in a capture kernel a mistyped device
// would become a file in RAM, eating the memory the save needs. Returns the
// problem as one line, empty on success (all of IN_FD written).
std::string write_stream_to(int in_fd, const std::string& path, int wait_seconds);

// "exit status 3", "killed by signal 9", "could not be started".
std::string describe_status(int status);

}  // namespace kdive::capture
