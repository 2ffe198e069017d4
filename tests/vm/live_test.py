#!/usr/bin/env python3
"""Checks kdive on a live kernel against that kernel's own truth.

    python3 tests/vm/live_test.py --suite SUITE --kdive PATH/TO/kdive [--keep RESULT.json]
    python3 tests/vm/live_test.py --result RESULT.json   # check a kept result again, no guest

Runs live_guest.py (a QEMU guest that runs kdive over its own /proc/kcore
and /dev/mem, see there) and checks what kdive printed against what the guest
printed about itself: uname, hostname, /proc/version, /proc/kallsyms,
/proc/iomem, the pids of its workloads, and page_offset_base and phys_base
read through /proc/kcore.  Also that live memory is read afresh (jiffies_64
moves between two reads) and that the guest kernel logged no fault while
kdive ran.  Prints each mismatch as expected/got lines, then the output of
the runs concerned; exits 0 if all checks pass, 1 otherwise.  Standard
library only.
"""

import argparse
import ctypes
import json
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

LIVE_GUEST = Path(__file__).resolve().with_name("live_guest.py")
GUEST_VMLINUX = "/mnt/fixture/vmlinux"
LIVE_DUMPFILE = "/proc/kcore  [kcore (live)]"
START_KERNEL_MAP = 0xFFFFFFFF80000000  # x86-64: kernel image virtual = physical + this - phys_base
FIRST_MIB = 1 << 20
DEVMEM_FALLBACK = re.compile(
    r"kdive: /dev/mem: the kernel refuses to read RAM at 0x(?P<addr>[0-9a-f]+) \([^;]+; "
    r"CONFIG_STRICT_DEVMEM allows only the first MiB\); using /proc/kcore instead")
# What live-init prints about the guest (a line garbled by the console is lost).
TRUTH_KEYS = ("release", "utsversion", "version", "hostname", "cpus", "cpu_la57", "kallsyms_linux_banner",
              "kallsyms_jiffies_64", "page_offset_base", "phys_base", "ram", "pid_sleeper", "pid_files")
RUNS = ("kcore", "devmem", "changing", "tasks", "refresh", "default", "auto")
# Kernel messages that mean kdive's reads upset the kernel, or kdive crashed.
BAD_DMESG = re.compile(r"BUG|Oops|WARNING|segfault|general protection|usercopy|traps:")


class Checks:
    """Collects failed checks, each tied to the run it is about."""

    def __init__(self):
        self.count = 0
        self.failures = []  # (run name, message)

    def equal(self, run, what, got, expected, source):
        """Passes if GOT == EXPECTED; SOURCE says where EXPECTED comes from."""
        self.count += 1
        if got != expected:
            label = f"expected ({source}):"
            self.failures.append((run, f"{what}\n  - {label} {expected!r}\n  + {'got:':<{len(label)}} {got!r}"))

    def true(self, run, what, ok, detail=""):
        """Passes if OK; WHAT says what should hold, DETAIL what did instead."""
        self.count += 1
        if not ok:
            self.failures.append((run, what + (f"\n  {detail}" if detail else "")))


# ------------------------------------------------------------ output parsing


def sections(run, mark):
    """[(command, [lines])] of a run's stdout, split at the "MARK command" lines."""
    out = []
    for line in run["stdout"]:
        if line.startswith(mark + " "):
            out.append((line[len(mark) + 1:], []))
        elif out:
            out[-1][1].append(line)
    return out


def sys_fields(lines):
    """sys output as {label: [values]} (DUMPFILE may repeat)."""
    fields = {}
    for line in lines:
        m = re.match(r"\s*([A-Z][A-Z ]*): (.*)$", line)
        if m:
            fields.setdefault(m.group(1), []).append(m.group(2))
    return fields


def translation(lines):
    """(virtual, physical) of the row under the "VIRTUAL PHYSICAL" header of
    vtop/ptov, as ints (physical None if not a number)."""
    for header, row in zip(lines, lines[1:]):
        if header.split() == ["VIRTUAL", "PHYSICAL"]:
            fields = row.split()
            if len(fields) >= 2 and re.fullmatch(r"[0-9a-f]+", fields[0]):
                physical = int(fields[1], 16) if re.fullmatch(r"[0-9a-f]+", fields[1]) else None
                return int(fields[0], 16), physical
    return None, None


def rd_ascii(lines):
    """(first address, text) of `rd -a`: lines "ADDR:  TEXT", the text
    continuing over lines."""
    first, text = None, ""
    for line in lines:
        m = re.match(r"([0-9a-f]+):  (.*)$", line)
        if not m:
            continue
        if first is None:
            first = int(m.group(1), 16)
        text += m.group(2)
    return first, text


def rd_quads(lines):
    """[(address, [values])] of `rd -p ADDR N` (64-bit words)."""
    rows = []
    for line in lines:
        m = re.match(r"\s*([0-9a-f]+):((?:\s+[0-9a-f]{16})+)", line)
        if m:
            rows.append((int(m.group(1), 16), m.group(2).split()))
    return rows


def ps_rows(lines):
    """{comm: [(pid, ppid, state)]} of ps's table."""
    rows = {}
    for line in lines:
        m = re.match(r"[> ]\s*(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+([A-Z]{2})\s+[\d.]+\s+\d+\s+\d+\s+(.+)$", line)
        if m:
            rows.setdefault(m.group(4), []).append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return rows


# ------------------------------------------------------------------ checks


def hx(value):
    """An address or word as hex, for messages (None stays None)."""
    return None if value is None else hex(value)


class LiveChecks:
    """The checks of one live_guest.py result.  A command that printed
    nothing fails once; the checks of its output are then skipped."""

    def __init__(self, result):
        self.result = result
        self.truth = result["truth"]
        self.mark = result["command_mark"]
        self.c = Checks()

    def hex_truth(self, key):
        return int(self.truth[key], 16)

    def symbol(self, name):
        return int(self.truth[f"kallsyms_{name}"].split()[0], 16)  # "ffffffff... D name"

    def outputs(self, name, command, times=1):
        """The output of each of the TIMES times the run ran COMMAND, or None."""
        found = [lines for c, lines in sections(self.result["runs"][name], self.mark) if c == command]
        ok = len(found) == times and all(found)
        self.c.true(name, f"`{command}` printed something", ok,
                    f"found {len(found)} of {times} outputs, empty: {sum(not f for f in found)} "
                    "(a command that failed, or a marker line garbled by the console)")
        return found if ok else None

    def output(self, name, command):
        found = self.outputs(name, command)
        return found[0] if found else None

    def status(self, name):
        self.c.equal(name, "exit status", self.result["runs"][name]["status"], 0, "success")

    def no_stderr(self, name):
        self.c.equal(name, "stderr", self.result["runs"][name]["stderr"], [], "nothing")

    def sys(self, name, kernel):
        lines = self.output(name, "sys")
        if lines is None:
            return
        f = sys_fields(lines)
        t = self.truth
        self.c.equal(name, "sys KERNEL", f.get("KERNEL"), [kernel], "the vmlinux used")
        self.c.equal(name, "sys DUMPFILE", f.get("DUMPFILE"), [LIVE_DUMPFILE], "live memory is /proc/kcore")
        self.c.equal(name, "sys RELEASE", f.get("RELEASE"), [t["release"]], "guest uname -r")
        self.c.equal(name, "sys VERSION", f.get("VERSION"), [t["utsversion"]], "guest uname -v")
        # The guest set its hostname at run time: only live memory has it.
        self.c.equal(name, "sys NODENAME", f.get("NODENAME"), [t["hostname"]], "guest hostname")
        # All CPUs of a running system are online: no "[OFFLINE: n]".
        self.c.equal(name, "sys CPUS", f.get("CPUS"), [t["cpus"]], "guest /proc/cpuinfo")
        self.c.true(name, "sys has no PANIC line (a running kernel has not panicked)", "PANIC" not in f,
                    f"got PANIC: {f.get('PANIC')}")

    def banner(self, name):
        lines = self.output(name, "rd -a linux_banner")
        if lines is None:
            return
        address, text = rd_ascii(lines)
        self.c.equal(name, "rd -a linux_banner: first address", hx(address), hx(self.symbol("linux_banner")),
                     "guest /proc/kallsyms")
        # rd shows the banner's trailing newline as '.'.
        self.c.equal(name, "rd -a linux_banner: text", text, self.truth["version"] + ".", "guest /proc/version + '.'")

    def vtop(self, name):
        lines = self.output(name, "vtop linux_banner")
        if lines is None:
            return
        virtual, physical = translation(lines)
        address = self.symbol("linux_banner")
        expected = (address - START_KERNEL_MAP + self.hex_truth("phys_base")) % (1 << 64)
        self.c.equal(name, "vtop linux_banner: VIRTUAL", hx(virtual), hx(address), "guest /proc/kallsyms")
        self.c.equal(name, "vtop linux_banner: PHYSICAL", hx(physical), hx(expected),
                     "linux_banner - __START_KERNEL_map + phys_base, phys_base via /proc/kcore")
        has_p4d = any(line.split(":")[0].strip() == "P4D" for line in lines)
        la57 = self.truth["cpu_la57"] == "yes"
        self.c.equal(name, "vtop linux_banner: walks a P4D level", has_p4d, la57, "guest la57 flag (5-level paging)")

    def ptov(self, name):
        lines = self.output(name, "ptov 0")
        if lines is None:
            return
        virtual, physical = translation(lines)
        self.c.equal(name, "ptov 0: VIRTUAL", hx(virtual), hx(self.hex_truth("page_offset_base")),
                     "page_offset_base via /proc/kcore")
        self.c.equal(name, "ptov 0: PHYSICAL", hx(physical), hx(0), "the argument")

    def rd_phys(self, name):
        """Checks the shape of `rd -p 1000 4`; returns the words (None if no output)."""
        lines = self.output(name, "rd -p 1000 4")
        if lines is None:
            return None
        rows = rd_quads(lines)
        self.c.equal(name, "rd -p 1000 4: addresses", [hx(a) for a, _ in rows], ["0x1000", "0x1010"],
                     "2 words a line")
        words = [v for _, values in rows for v in values]
        self.c.equal(name, "rd -p 1000 4: word count", len(words), 4, "the count asked for")
        return words

    def changing(self, name):
        """Two reads of jiffies_64 a second apart differ: live memory is read
        afresh, not served from a page cached by the first read."""
        reads = self.outputs(name, "rd jiffies_64", times=2)
        if reads is None:
            return
        rows = [rd_quads(lines) for lines in reads]
        self.c.equal(name, "rd jiffies_64: addresses", [hx(r[0][0]) if r else None for r in rows],
                     [hx(self.symbol("jiffies_64"))] * 2, "guest /proc/kallsyms, twice")
        values = [int(r[0][1][0], 16) for r in rows if r]
        self.c.true(name, "the second rd jiffies_64 is larger than the first (one second later)",
                    len(values) == 2 and values[1] > values[0], f"got {[hx(v) for v in values]}")

    def tasks(self, name):
        """ps of the running system lists the workloads /init started, one
        idle task per CPU, and the kdive process itself, running."""
        lines = self.output(name, "ps")
        if lines is None:
            return
        rows = ps_rows(lines)
        t = self.truth
        for comm, pid in (("kd-sleeper", t["pid_sleeper"]), ("kd-files", t["pid_files"])):
            # Both sleep in nanosleep/pause: interruptible, "IN"; their parent is /init.
            self.c.equal(name, f"ps: the {comm} row (pid, ppid, state)", rows.get(comm), [(int(pid), 1, "IN")],
                         "guest $! of /init")
        idle = [r for c, r in rows.items() if c.startswith("[swapper/")]
        self.c.equal(name, "ps: idle tasks [swapper/N] with pid 0", sorted(r[0][0] for r in idle) if idle else [],
                     [0] * int(t["cpus"]), "one per guest CPU")
        self.c.equal(name, "ps: kdive's own row state", [r[2] for r in rows.get("kdive", [])], ["RU"],
                     "kdive reads its own task while running")

    def refresh(self, name):
        """A process started between two ps commands of one session shows up
        in the second only: each command reads the live task list afresh."""
        both = self.outputs(name, "ps", times=2)
        if both is None:
            return
        before, after = (ps_rows(lines).get("sleep", []) for lines in both)
        self.c.equal(name, "ps before `!sleep 300 & sleep 1`: sleep rows", before, [], "not started yet")
        self.c.equal(name, "ps after `!sleep 300 & sleep 1`: sleep rows", len(after), 1, "started by the shell escape")

    def devmem_note(self, name):
        """The one line saying /dev/mem is restricted and /proc/kcore is used
        instead, naming the first RAM address above 1 MiB."""
        stderr = self.result["runs"][name]["stderr"]
        m = DEVMEM_FALLBACK.fullmatch(stderr[0]) if len(stderr) == 1 else None
        self.c.true(name, "stderr is the one-line STRICT_DEVMEM fallback note", bool(m),
                    f"got {stderr!r}\n  expected one line matching {DEVMEM_FALLBACK.pattern!r}")
        if m:
            ranges = [[int(x, 16) for x in r.split("-")] for r in self.truth["ram"].split()]
            first = min(max(start, FIRST_MIB) for start, end in ranges if end >= FIRST_MIB)
            self.c.equal(name, "refused address in the note", hx(int(m.group("addr"), 16)), hx(first),
                         "first System RAM byte above 1 MiB in guest /proc/iomem")

    def dmesg(self):
        bad = [l for l in self.result["dmesg"] if BAD_DMESG.search(l)]
        self.c.equal("dmesg", "kernel messages during kdive's runs", bad, [], "none about faults")

    def run_all(self):
        words = {}
        for name in ("kcore", "devmem"):
            self.status(name)
            self.sys(name, GUEST_VMLINUX)
            self.banner(name)
            self.vtop(name)
            self.ptov(name)
            words[name] = self.rd_phys(name)
        self.no_stderr("kcore")
        self.devmem_note("devmem")
        # Low memory is reserved and stable: both runs read the same words.
        if words["kcore"] is not None and words["devmem"] is not None:
            self.c.equal("devmem", "rd -p 1000 4: words", words["devmem"], words["kcore"], "the kcore run")
        self.status("changing")
        self.no_stderr("changing")
        self.changing("changing")
        self.status("tasks")
        self.no_stderr("tasks")
        self.tasks("tasks")
        self.status("refresh")
        self.no_stderr("refresh")
        self.refresh("refresh")
        for name, kernel in (("default", GUEST_VMLINUX),
                             ("auto", f"/usr/lib/debug/boot/vmlinux-{self.truth['release']}")):
            self.status(name)
            self.no_stderr(name)
            self.sys(name, kernel)
        self.dmesg()


# ------------------------------------------------------------------- main


def term_with_parent():
    """Runs in the live_guest.py child before exec: if this test is killed (a
    CTest timeout), the child gets SIGTERM, on which it stops QEMU and removes
    its temporary files (among them a 600 MB disk image)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def run_guest(suite, kdive, out):
    """Runs live_guest.py (its progress and errors go to our stderr)."""
    cmd = [sys.executable, str(LIVE_GUEST), "--suite", suite, "--kdive", str(kdive), "--out", str(out)]
    child = subprocess.Popen(cmd, preexec_fn=term_with_parent)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())  # let it clean up, then report
    return child.wait() == 0


def report(result, checks):
    suite = result["suite"]
    if not checks.failures:
        print(f"live_test[{suite}]: all {checks.count} checks passed ({result['kernel_package']}, "
              f"la57 {result['truth']['cpu_la57']})")
        return 0
    print(f"live_test[{suite}]: {len(checks.failures)} of {checks.count} checks failed "
          f"({result['kernel_package']}):")
    for run, message in checks.failures:
        print(f"FAIL [{run}] {message}")
    for name in dict.fromkeys(run for run, _ in checks.failures):
        run = result["runs"].get(name)
        if run:
            print(f"--- run '{name}': kdive {shlex.join(run['argv'])} (exit {run['status']}) ---")
            print(*(["stdout:"] + run["stdout"] + ["stderr:"] + run["stderr"]), sep="\n")
        elif name == "dmesg":
            print("--- dmesg during the runs ---", *result["dmesg"], sep="\n")
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check kdive on a live kernel (QEMU guest) against its truth.")
    parser.add_argument("--suite", help="fixture suite whose kernel the guest boots")
    parser.add_argument("--kdive", type=Path, help="the kdive binary to test")
    parser.add_argument("--keep", type=Path, help="also write live_guest.py's result to this file")
    parser.add_argument("--result", type=Path, help="check this kept result instead of booting a guest")
    args = parser.parse_args(argv)
    if not args.result and not (args.suite and args.kdive):
        parser.error("give --suite and --kdive, or --result")

    if args.result:
        result = json.loads(args.result.read_text())
    else:
        with tempfile.TemporaryDirectory(prefix="kdive-live-test-") as tmp:
            out = args.keep or Path(tmp) / "result.json"
            if not run_guest(args.suite, args.kdive, out):
                print(f"live_test[{args.suite}]: FAIL: the guest did not run to the end (see above)")
                return 1
            result = json.loads(out.read_text())
    missing = [k for k in TRUTH_KEYS if k not in result["truth"]] + [r for r in RUNS if r not in result["runs"]]
    if missing:
        print(f"live_test[{result['suite']}]: FAIL: the result lacks {missing} (garbled console lines?)")
        return 1
    checks = LiveChecks(result)
    checks.run_all()
    return report(result, checks.c)


if __name__ == "__main__":
    sys.exit(main())
