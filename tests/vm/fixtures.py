#!/usr/bin/env python3
"""Builds kdive's real-kernel crash-dump fixtures.

For each suite, boots a real Debian cloud kernel under QEMU (TCG) with a tiny
busybox initramfs, lets the guest print its own ground truth to the serial
console, crashes it, and dumps the stopped guest twice over QMP (ELF and
kdump-zlib).  See tests/vm/README.md for the CLI, the cache layout and the
truth format.

Standard library only: this runs as Debian's python3 on a fresh CI machine.
"""

import argparse
import contextlib
import ctypes
import fcntl
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUEST_DIR = REPO / "data" / "guest"
CAPTURE_SOURCE_DIR = REPO / "capture"

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
METAPACKAGE = "linux-image-cloud-amd64"
# Modules the guest loads: qemu_fw_cfg lets QEMU's vmcoreinfo device learn
# where the guest's VMCOREINFO note is, so the dumps carry it.
GUEST_MODULES = ("qemu_fw_cfg",)
# The swap disk's driver (virtio_pci is built into some kernels: then only
# virtio_blk is loaded). Not in GUEST_MODULES: no test reads their DWARF.
SWAP_DISK_MODULES = ("virtio_pci", "virtio_blk")
# The network device of the system-state truth (kdive0: /init renames the
# dummy0 the module makes). Not in GUEST_MODULES either: no test reads its DWARF.
NET_MODULES = ("dummy",)
SWAP_DISK_MIB = 16  # room for the pages the memory workload pushes out, and more

FIXTURE_FILES = ("vmlinux", "vmlinuz", "vmcore.elf", "vmcore.kdump-zlib", "truth.txt", "console.log")
# The kdump suite also keeps the capture kernel's own files and a level-31
# copy for the filter tests.
KDUMP_FIXTURE_FILES = ("vmcore.kdump-d31", "dmesg.txt", "capture-meminfo.txt", "capture-console.log",
                       "vmcore.remote")

# ---- the kdump suite (kdive's capture programs inside the guest)
# The three programs, from `ensure --tool NAME=PATH` (the CTest fixture step
# passes the built ones) or KDIVE_CAPTURE_TOOLS="name=path,name=path,...".
CAPTURE_TOOLS = ("kdive-capture", "kdive-kexec", "kdive-dump")
KDUMP_MEMORY_MIB = 768
# A 768 MB bookworm guest needed 80M with makedumpfile's capture initramfs
# (72M ran out of memory); 96M leaves room for kdive's.
KDUMP_CRASHKERNEL = "96M"
DUMP_DISK_MIB = 1024  # sparse; a level-1 zlib dump of 768 MB is far smaller
KDUMP_TIMEOUT = int(os.environ.get("KDIVE_KDUMP_TIMEOUT", "900"))  # panic to capture kernel power-off, s
# What the capture kernel is told (/etc/kdive/capture.conf in the guest): level
# 1 keeps user pages, so every truth check applies to the dump.
KDUMP_CONFIG = """\
savedir = /var/crash
dump_level = 1
compression = zlib
keep_old_dumps = 0
min_free = 0
action = poweroff
kernel = /boot/vmlinuz
initramfs = /var/lib/kdive/capture-initramfs.img
device_timeout = 120
copy_target = pipe:kdive-capture write /dev/vport0p1
copy_dump_level = 31
"""
# The remote save: after the disk save, the capture kernel streams a level-31
# copy (kdive-dump -F) through the pipe: command above into a virtio-serial
# port: `kdive-capture write`, already in the capture initramfs (busybox's dd
# would do too, but its 2 MB cost the level-1 save its memory: kdive-dump was
# OOM-killed in the 96M reservation), which also waits for the port's device
# node and never creates a file in its place. QEMU connects that port to a listener the builder opens
# on the host's 127.0.0.1 (and nowhere else), which feeds `kdive-dump -R
# vmcore.remote`: the path an `ssh host kdive-dump -R PATH` target takes,
# without a network. The port's device is /dev/vport<virtio index>p<port>:
# the virtio-serial controller sits in PCI slot 3, below the two disks, so it
# is virtio0 in both kernels, and its one port is number 1. (No udev in the
# capture kernel: no /dev/virtio-ports/NAME link.)
KDUMP_REMOTE_PCI_SLOT = "0x3"
KDUMP_REMOTE_PORT = "org.kdive.remote"
# virtio_console, which the guest itself does not load: the capture kernel
# does, after the guest's modules (its virtio core is among them).
KDUMP_REMOTE_MODULES = ("virtio_console",)
KDUMP_RECEIVE_TIMEOUT = 120  # s from the capture kernel's power-off to the receiver's exit
# Modules of the guest's module list that the capture kernel does not need.
KDUMP_SKIP_MODULES = ("qemu_fw_cfg", "dummy")
COMPLETE_STAMP = ".complete"
APT_LISTS_MAX_AGE = 3600  # seconds; a fresh index is reused instead of re-fetched

BOOT_TIMEOUT = int(os.environ.get("KDIVE_FIXTURE_TIMEOUT", "240"))  # boot to panic, seconds
PANIC_LINE = "Kernel panic - not syncing"
PANIC_END = "---[ end Kernel panic"
TRUTH_PREFIX = "KDIVE-TRUTH "


@dataclass(frozen=True)
class Suite:
    name: str
    dist: str          # Debian release the kernel comes from
    cpu: str           # QEMU -cpu: "max" gives LA57 (5-level paging) to kernels that use it
    # How the guest dies: "sysrq" (echo c > /proc/sysrq-trigger), "oom"
    # (panic_on_oom), "modoops" (the test module's NULL dereference with
    # panic_on_oops) or "irq" (alt-sysrq-c typed on the guest's PS/2 keyboard).
    mode: str
    panic_reason: str  # expected text on the panic line

    @property
    def test_module(self):
        """The out-of-tree module (data/guest/<dir>) the suite builds and loads, or None."""
        return TEST_MODULE if self.mode == "modoops" else None


SUITES = {
    s.name: s
    for s in (
        Suite("bullseye", "bullseye", "max", "sysrq", "sysrq triggered crash"),
        # la57=off keeps one 6.1 guest on 4-level page tables.
        Suite("bookworm", "bookworm", "max,la57=off", "sysrq", "sysrq triggered crash"),
        Suite("trixie", "trixie", "max", "sysrq", "sysrq triggered crash"),
        Suite("bookworm-oom", "bookworm", "max,la57=off", "oom", "Out of memory"),
        # An oops in an out-of-tree module, built against Debian's headers of
        # the same kernel; panic_on_oops turns it into panic("Fatal exception").
        Suite("bookworm-modoops", "bookworm", "max,la57=off", "modoops", "Fatal exception"),
        # sysrq-c from the keyboard interrupt: the panic runs on the IRQ stack.
        Suite("bookworm-irq", "bookworm", "max,la57=off", "irq", "sysrq triggered crash"),
        # Captured the way users capture: kdive-capture load arms a capture
        # kernel in the guest, and after the panic that kernel saves
        # /proc/vmcore with kdive-dump onto a disk the host then reads.
        Suite("bookworm-kdump", "bookworm", "max,la57=off", "kdump", "sysrq triggered crash"),
    )
}

# The modoops suite's module: its source dir under data/guest, its name, and
# its call chain from the /proc write handler to the NULL dereference,
# innermost first (as a backtrace lists it).  /init prints the same chain.
TEST_MODULE_DIR = "oops_module"
TEST_MODULE = "kdive_oops"
TEST_MODULE_CHAIN = ("kdive_oops_inner", "kdive_oops_middle", "kdive_oops_outer", "kdive_oops_write")
# Printed by the irq suite's last shell when it goes to sleep, leaving CPU 0
# idle, waiting for the host to type alt-sysrq-c.
IRQ_READY = "KDIVE-IRQ-READY"
IRQ_KEY_TRIES = 6        # the key is typed again if no panic follows ...
IRQ_KEY_RETRY_AFTER = 10  # ... within this many seconds


class FixtureError(Exception):
    """A build failure; `console` holds the guest's console log, if relevant."""

    def __init__(self, message, console=None):
        super().__init__(message)
        self.console = console


def log(suite, message):
    print(f"fixtures[{suite}]: {message}", file=sys.stderr, flush=True)


class Timer:
    """Collects the duration of each named build phase."""

    def __init__(self):
        self.phases = {}

    @contextlib.contextmanager
    def phase(self, name):
        start = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - start

    def summary(self):
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())


# ---------------------------------------------------------------- cache layout


def fixtures_root():
    env = os.environ.get("KDIVE_FIXTURES")
    root = Path(env) if env else Path.home() / ".cache" / "kdive" / "fixtures"
    return root.absolute()


def fixture_dir(suite_name):
    return fixtures_root() / suite_name


def guest_recipe():
    """A hash of what the guest runs: a fixture made by an older /init or
    workload lacks truth that tests now expect, so it is rebuilt."""
    h = hashlib.sha256()
    for name in ("init", "workload.c"):
        h.update(name.encode() + b"\0" + (GUEST_DIR / name).read_bytes())
    for path in sorted((GUEST_DIR / TEST_MODULE_DIR).iterdir()):
        h.update(f"{TEST_MODULE_DIR}/{path.name}".encode() + b"\0" + path.read_bytes())
    # What truth.txt keeps of the console is part of the recipe too.
    h.update(repr((sorted(TRUTH_SHAPES.items()), sorted(TRUTH_RECORDS), sorted(REQUIRED_TRUTH))).encode())
    return h.hexdigest()[:16]


def suite_recipe(suite):
    """guest_recipe(), plus for the kdump suite what its capture setup is."""
    if suite.mode != "kdump":
        return guest_recipe()
    h = hashlib.sha256(repr((KDUMP_CONFIG, KDUMP_CRASHKERNEL, KDUMP_MEMORY_MIB, KDUMP_SKIP_MODULES,
                             KDUMP_FIXTURE_FILES, KDUMP_REMOTE_PCI_SLOT, KDUMP_REMOTE_MODULES)).encode())
    # The dump is made by kdive's own capture programs: a change to them
    # takes the dump again, so this suite's fixture step is the end-to-end
    # test of the programs as they are now, not as they were.
    for path in sorted(p for p in CAPTURE_SOURCE_DIR.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(CAPTURE_SOURCE_DIR)).encode() + b"\0" + path.read_bytes())
    return f"{guest_recipe()}-kdump{h.hexdigest()[:8]}"


def suite_files(suite):
    return FIXTURE_FILES + (KDUMP_FIXTURE_FILES if suite.mode == "kdump" else ())


def is_complete(directory, suite=None):
    suite = suite or SUITES.get(directory.name)
    stamp = directory / COMPLETE_STAMP
    if suite is None or not stamp.is_file() or not all((directory / f).is_file() for f in suite_files(suite)):
        return False
    return f"recipe {suite_recipe(suite)}" in stamp.read_text().split("\n")


@contextlib.contextmanager
def file_lock(name, suite):
    """Holds an exclusive flock on <root>/locks/<name>.lock; waits if taken."""
    lock_dir = fixtures_root() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(suite, f"waiting for another process holding the '{name}' lock")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def remove_stale(directory, prefix):
    """Removes temporary dirs named PREFIX* left by an interrupted build.
    Callers hold the lock that guards that kind of temporary."""
    for stale in directory.glob(glob_escape(prefix) + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def glob_escape(text):
    return re.sub(r"([*?[])", r"[\1]", text)


def run(cmd, what, **kwargs):
    """Runs CMD, raising FixtureError with the tail of its stderr on failure."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise FixtureError(f"{what} failed (exit {result.returncode}): {tail}")
    return result.stdout


# ------------------------------------------------------------- private apt


class PrivateApt:
    """apt-get/apt-cache with their own sources, lists and status under the
    cache, so the host's apt configuration and state stay untouched.

    The host's Acquire:: settings (proxies, date checks) are carried over,
    everything else from the host's apt.conf.d is left out -- notably its
    update hooks, which would act on the host."""

    def __init__(self, dist):
        self.dist = dist
        self.dir = fixtures_root() / "apt" / dist
        self.config = self.dir / "apt.conf"

    def setup(self):
        for sub in ("lists/partial", "cache/archives/partial", "state", "apt.conf.d"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "status").touch()
        d = self.dist
        sources = [
            f"deb [signed-by={KEYRING}] {MIRROR} {d} main",
            f"deb [signed-by={KEYRING}] {MIRROR} {d}-updates main",
            f"deb [signed-by={KEYRING}] {SECURITY_MIRROR} {d}-security main",
        ]
        (self.dir / "sources.list").write_text("\n".join(sources) + "\n")
        settings = {
            "Dir::Etc::Main": "/dev/null",
            "Dir::Etc::Parts": self.dir / "apt.conf.d",
            "Dir::Etc::SourceList": self.dir / "sources.list",
            "Dir::Etc::SourceParts": "/dev/null",
            "Dir::Etc::Preferences": "/dev/null",
            "Dir::Etc::PreferencesParts": "/dev/null",
            "Dir::State": self.dir / "state",
            "Dir::State::Lists": self.dir / "lists",
            "Dir::State::status": self.dir / "status",
            "Dir::Cache": self.dir / "cache",
            "APT::Architecture": "amd64",
            "APT::Sandbox::User": "root",  # no _apt sandbox warnings when run as root
            "Acquire::Languages": "none",
        }
        lines = [f'{key} "{value}";' for key, value in settings.items()]
        self.config.write_text("\n".join(lines + self._host_acquire_settings()) + "\n")

    @staticmethod
    def _host_acquire_settings():
        dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True).stdout
        keep = []
        for line in dump.splitlines():
            key = line.split(" ", 1)[0]
            if key.startswith("Acquire::") and not key.startswith(
                ("Acquire::IndexTargets", "Acquire::Languages", "Acquire::Changelogs", "Acquire::cdrom")
            ):
                keep.append(line)
        return keep

    def _run(self, tool, *args, cwd=None):
        env = dict(os.environ, APT_CONFIG=str(self.config), LC_ALL="C")
        return run([tool, *args], f"{tool} {' '.join(args)}", env=env, cwd=cwd)

    def update(self):
        stamp = self.dir / "updated"
        if stamp.exists() and time.time() - stamp.stat().st_mtime < APT_LISTS_MAX_AGE:
            return
        self._run("apt-get", "-q", "update")
        stamp.touch()

    def versions(self, package):
        """Versions of PACKAGE, apt's candidate first, then the version table."""
        out = self._run("apt-cache", "policy", package)
        candidate = re.search(r"^\s*Candidate:\s*(\S+)", out, re.M)
        if not candidate or candidate.group(1) == "(none)":
            raise FixtureError(f"{package} not found in {self.dist}")
        table = re.findall(r"^\s+(?:\*\*\*\s+)?(\S+)\s+-?\d+\s*$", out, re.M)
        return list(dict.fromkeys([candidate.group(1), *table]))

    def record(self, package, version):
        """The Packages stanza of PACKAGE=VERSION, as a dict."""
        out = self._run("apt-cache", "show", f"{package}={version}")
        stanza = out.split("\n\n", 1)[0]  # the same version may be listed by two suites
        return dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))

    def download(self, package, version, debs_dir):
        """PACKAGE=VERSION's .deb in DEBS_DIR, downloaded unless already there."""
        info = self.record(package, version)
        target = debs_dir / Path(info["Filename"]).name
        if target.is_file() and target.stat().st_size == int(info["Size"]):
            return target
        debs_dir.mkdir(parents=True, exist_ok=True)
        remove_stale(debs_dir, f".{package}_{version}.download-")
        staging = Path(tempfile.mkdtemp(dir=debs_dir, prefix=f".{package}_{version}.download-"))
        try:
            self._run("apt-get", "-q", "download", f"{package}={version}", cwd=staging)
            (got,) = staging.glob("*.deb")
            if got.stat().st_size != int(info["Size"]):
                raise FixtureError(f"{got.name}: size {got.stat().st_size}, expected {info['Size']}")
            os.replace(got, target)  # only complete downloads get the final name
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


@dataclass(frozen=True)
class KernelDebs:
    package: str  # e.g. linux-image-6.1.0-56-cloud-amd64
    version: str
    image: Path
    dbg: Path

    @property
    def release(self):  # uname -r
        return self.package.removeprefix("linux-image-")


def image_dependency(apt, meta_version):
    """(package, version) of the kernel image METAPACKAGE=META_VERSION depends on."""
    depends = apt.record(METAPACKAGE, meta_version).get("Depends", "")
    for alternative in depends.split(","):
        m = re.match(r"\s*(linux-image-\S+)(?:\s*\(=\s*([^)\s]+)\))?", alternative)
        if m:
            return m.group(1), m.group(2) or meta_version
    raise FixtureError(f"{METAPACKAGE} {meta_version} depends on no linux-image package: {depends!r}")


def fetch_kernel(suite):
    """Downloads the image and -dbg .debs of the kernel SUITE's metapackage
    depends on.  apt's candidate is preferred.  If the archive has no -dbg
    (or image) .deb for it (HTTP 404: this mirror lacks bullseye-security's
    -dbg packages), the next version of the metapackage is tried, since image
    and vmlinux must match exactly.  Any other failure is an error: a flaky
    network must not silently change the kernel."""
    apt = PrivateApt(suite.dist)
    apt.setup()
    apt.update()
    debs_dir = fixtures_root() / "debs"
    problems = []
    for meta_version in apt.versions(METAPACKAGE):
        package, version = image_dependency(apt, meta_version)
        try:
            # -dbg first: it is the one that may be missing.
            dbg = apt.download(f"{package}-dbg", version, debs_dir)
            image = apt.download(package, version, debs_dir)
            return KernelDebs(package, version, image, dbg)
        except FixtureError as e:
            if " 404 " not in str(e):
                raise
            problems.append(f"{package} {version}: {e}")
            log(suite.name, f"cannot use {package} {version}, trying an older one ({e})")
    raise FixtureError("no kernel with both image and -dbg package downloadable: " + "; ".join(problems))


def fetch_headers(suite, debs):
    """The .debs a module build needs for DEBS's kernel, all of DEBS.version:
    linux-headers-<release>, and what it depends on among Debian's kernel
    packages (linux-headers-<abi>-common, linux-kbuild-<major.minor>).  Their
    names come from the headers package's Depends, not from a guess."""
    apt = PrivateApt(suite.dist)
    apt.setup()
    apt.update()
    debs_dir = fixtures_root() / "debs"
    headers = f"linux-headers-{debs.release}"
    depends = apt.record(headers, debs.version).get("Depends", "")
    wanted = [headers]
    for alternative in depends.split(","):
        # "linux-headers-6.1.0-57-common (= 6.1.192-3)", "linux-kbuild-6.1 (>= 6.1.192-3)":
        # the one version set of the kernel is taken for both.
        m = re.match(r"\s*(linux-(?:headers|kbuild)-\S+)\s*\((>?=)\s*([^)\s]+)\)", alternative)
        if m:
            if m.group(2) == "=" and m.group(3) != debs.version:
                raise FixtureError(f"{headers} {debs.version} wants {m.group(1)} {m.group(3)}, not the kernel's version")
            wanted.append(m.group(1))
    if len(wanted) < 3:
        raise FixtureError(f"{headers} {debs.version} depends on {depends!r}: no -common and kbuild packages found")
    return [apt.download(name, debs.version, debs_dir) for name in wanted]


# --------------------------------------------------------------- extraction


def deb_tar(deb, tar_args, dest=None):
    """Runs tar TAR_ARGS on DEB's data archive.  Returns tar's result.  With
    --occurrence tar stops reading once it has what it was asked for, and
    dpkg-deb then dies of SIGPIPE: that is expected, so only tar's status
    counts."""
    feeder = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    result = subprocess.run(["tar", *tar_args], stdin=feeder.stdout, capture_output=True, text=True, cwd=dest)
    feeder.stdout.close()
    feeder.wait()
    return result


def deb_members(deb):
    """Names of the files in DEB's data archive ("./boot/vmlinuz-..." etc.)."""
    listing = deb_tar(deb, ["-t"])
    if listing.returncode != 0:
        raise FixtureError(f"cannot list {deb.name}: {listing.stderr.strip()}")
    return listing.stdout.splitlines()


def extract_members(deb, members, dest):
    """Extracts just MEMBERS of DEB into DEST, returning their paths.  Naming
    them exactly lets tar stop early (a -dbg deb is ~300 MB of xz, and the
    vmlinux comes early in it)."""
    dest.mkdir(parents=True, exist_ok=True)
    result = deb_tar(deb, ["-x", "--occurrence=1", "--", *members], dest)
    missing = [m for m in members if not (dest / m).exists()]
    if result.returncode != 0 or missing:
        raise FixtureError(f"extracting {missing or members} from {deb.name} failed: {result.stderr.strip()}")
    return [dest / m for m in members]


def decompress_module(path):
    """Bytes of a kernel module, decompressed: busybox insmod wants plain ELF."""
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return data


def elf_sections(data):
    """{name: bytes} of an ELF64 little-endian file's sections."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):  # (name offset, file offset, size)
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", data, base)
        offset, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, offset, size

    _, str_off, _ = header(shstrndx)
    sections = {}
    for i in range(shnum):
        name_off, offset, size = header(i)
        end = data.index(b"\0", str_off + name_off)
        sections[data[str_off + name_off:end].decode()] = data[offset:offset + size]
    return sections


def module_depends(ko_bytes):
    """The modules a .ko needs first, from its .modinfo "depends=" entry."""
    for entry in elf_sections(ko_bytes).get(".modinfo", b"").split(b"\0"):
        if entry.startswith(b"depends="):
            return [d for d in entry[len(b"depends="):].decode().split(",") if d]
    return []


def module_name(member):
    base = member.rsplit("/", 1)[-1]
    return base.split(".ko", 1)[0].replace("-", "_")


def extract_modules(deb, members, release, dest, names=GUEST_MODULES + SWAP_DISK_MODULES + NET_MODULES):
    """Writes NAMES (by default the GUEST_MODULES and SWAP_DISK_MODULES) that
    are not built in (plus what they depend on) into DEST as plain .ko files,
    and DEST/order with the insmod order.  Returns a description of each
    module for the build log."""
    by_name = {module_name(m): m for m in members if re.search(rf"/modules/{re.escape(release)}/.*\.ko(\.\w+)?$", m)}
    builtin_member = next((m for m in members if m.endswith(f"/modules/{release}/modules.builtin")), None)
    builtin = set()
    scratch = dest / ".scratch"
    if builtin_member:
        path, = extract_members(deb, [builtin_member], scratch)
        builtin = {module_name(line) for line in path.read_text().split()}

    order, notes = [], []

    def add(name):
        if name in builtin:
            notes.append(f"{name}: built in")
            return
        if name in order:
            return
        if name not in by_name:
            raise FixtureError(f"module {name} is neither built into {release} nor shipped in {deb.name}")
        path, = extract_members(deb, [by_name[name]], scratch)
        data = decompress_module(path)
        for dep in module_depends(data):
            add(dep.replace("-", "_"))
        (dest / f"{name}.ko").write_bytes(data)
        order.append(name)
        notes.append(f"{name}: module {path.name}")

    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        add(name)
    shutil.rmtree(scratch, ignore_errors=True)
    (dest / "order").write_text("".join(f"{n}.ko\n" for n in order))
    (dest / "wanted").write_text(" ".join(names) + "\n")
    return notes


def modules_up_to_date(kernel_dir):
    """True if KERNEL_DIR/modules holds the modules the guest now loads."""
    wanted = kernel_dir / "modules" / "wanted"
    return wanted.is_file() and wanted.read_text().split() == list(GUEST_MODULES + SWAP_DISK_MODULES + NET_MODULES)


def refresh_modules(suite, debs, final):
    """Re-extracts only the guest modules of an extracted kernel, when the
    list of modules the guest loads changed (the vmlinux stays)."""
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.modules-"))
    try:
        notes = extract_modules(debs.image, deb_members(debs.image), debs.release, work / "modules")
        (work / "modules.txt").write_text("".join(n + "\n" for n in notes))
        shutil.rmtree(final / "modules", ignore_errors=True)
        os.replace(work / "modules", final / "modules")
        os.replace(work / "modules.txt", final / "modules.txt")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for note in notes:
        log(suite.name, note)


def extract_kernel(suite, debs):
    """Cached vmlinuz, debug vmlinux and guest modules of DEBS, shared by all
    suites using that kernel (bookworm and bookworm-oom)."""
    kernels = fixtures_root() / "kernels"
    final = kernels / f"{debs.package}_{debs.version}"
    if (final / COMPLETE_STAMP).is_file():
        if not modules_up_to_date(final):
            refresh_modules(suite, debs, final)
        return final
    kernels.mkdir(parents=True, exist_ok=True)
    remove_stale(kernels, f".{final.name}.extract-")
    work = Path(tempfile.mkdtemp(dir=kernels, prefix=f".{final.name}.extract-"))
    try:
        release = debs.release
        members = deb_members(debs.image)
        vmlinuz, = extract_members(debs.image, [f"./boot/vmlinuz-{release}"], work / "image")
        os.replace(vmlinuz, work / "vmlinuz")
        notes = extract_modules(debs.image, members, release, work / "modules")
        # The -dbg deb is ~300 MB of xz: name the one member so tar stops early.
        vmlinux, = extract_members(debs.dbg, [f"./usr/lib/debug/boot/vmlinux-{release}"], work / "dbg")
        os.replace(vmlinux, work / "vmlinux")
        shutil.rmtree(work / "image")
        shutil.rmtree(work / "dbg")
        (work / "modules.txt").write_text("".join(n + "\n" for n in notes))
        (work / COMPLETE_STAMP).write_text(f"{debs.package} {debs.version}\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    for note in notes:
        log(suite.name, note)
    return final


def extract_headers(suite, debs, header_debs):
    """Debian's kernel headers for DEBS, unpacked under kernels/<kernel>/headers
    with their /usr layout kept, so the packages' relative symlinks (scripts,
    tools -> linux-kbuild) resolve.  Returns the build dir (the one `make -C`
    takes).  Cached, shared by the suites of that kernel."""
    final = fixtures_root() / "kernels" / f"{debs.package}_{debs.version}" / "headers"
    build_dir = final / "usr" / "src" / f"linux-headers-{debs.release}"
    if (final / COMPLETE_STAMP).is_file():
        return build_dir
    remove_stale(final.parent, ".headers.extract-")
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=".headers.extract-"))
    try:
        for deb in header_debs:
            run(["dpkg-deb", "-x", str(deb), str(work)], f"unpacking {deb.name}")
        # The flavour's Makefile includes the -common tree's by its absolute
        # /usr/src path: point it at the unpacked copy (which is where it
        # will be once renamed into place).
        makefile = work / build_dir.relative_to(final) / "Makefile"
        text = makefile.read_text()
        if "include /usr/src/" not in text:
            raise FixtureError(f"unexpected {makefile.name} in linux-headers-{debs.release}: {text!r}")
        makefile.write_text(text.replace("include /usr/src/", f"include {final}/usr/src/"))
        (work / COMPLETE_STAMP).write_text(" ".join(d.name for d in header_debs) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log(suite.name, f"kernel headers from {', '.join(d.name for d in header_debs)}")
    return build_dir


def kernel_compiler(build_dir):
    """The host compiler matching the one the kernel was built with
    (CONFIG_GCC_VERSION of the headers' .config, e.g. 120200 -> gcc-12):
    a module built by another compiler may not match the kernel's ABI
    assumptions (and kbuild's checks of compiler features differ)."""
    config = (build_dir / ".config").read_text()
    m = re.search(r"^CONFIG_GCC_VERSION=(\d+)$", config, re.M)
    if not m:
        raise FixtureError(f"{build_dir.name}/.config names no CONFIG_GCC_VERSION: the kernel was not built by gcc")
    major = int(m.group(1)) // 10000
    compiler = shutil.which(f"gcc-{major}")
    if not compiler:
        raise FixtureError(f"the kernel was built by gcc {major}: install gcc-{major} to build the test module")
    return compiler


def build_test_module(build_dir, work):
    """Builds data/guest/<TEST_MODULE_DIR> against BUILD_DIR in WORK; returns the .ko."""
    source = work / TEST_MODULE_DIR
    shutil.copytree(GUEST_DIR / TEST_MODULE_DIR, source)
    run(["make", "-C", str(build_dir), f"M={source}", f"CC={kernel_compiler(build_dir)}", "modules"],
        f"building the {TEST_MODULE} module")
    ko = source / f"{TEST_MODULE}.ko"
    if ".modinfo" not in elf_sections(ko.read_bytes()):
        raise FixtureError(f"{ko.name} has no .modinfo section")
    return ko


# ---------------------------------------------------------------- initramfs


def elf_is_static(path):
    """True if the ELF file at PATH has no program interpreter (PT_INTERP)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3 for i in range(phnum))


def static_busybox():
    path = shutil.which("busybox")
    if not path or not elf_is_static(Path(path).resolve()):
        raise FixtureError("a static busybox is needed for the guest: apt-get install busybox-static")
    return Path(path).resolve()


def compile_workload(out):
    run(["gcc", "-static", "-O1", "-pthread", "-Wall", "-o", str(out), str(GUEST_DIR / "workload.c")],
        "compiling data/guest/workload.c")


class Cpio:
    """Writer of a "newc" cpio archive, the initramfs format.  Written here
    rather than with cpio(1) so that device nodes need no root and the
    archive is reproducible."""

    def __init__(self):
        self.chunks = []
        self.ino = 0

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        self.ino += 1
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
        header = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        self.chunks += [header, b"\0" * (-len(header) % 4), data, b"\0" * (-len(data) % 4)]

    def directory(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, perm=0o644):
        self._entry(name, 0o100000 | perm, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def char_device(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        return b"".join(self.chunks)


def build_initramfs(kernel_dir, workload, out, extra_modules=(), extra_files=None):
    busybox = static_busybox()
    archive = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "modules"):
        archive.directory(d)
    archive.char_device("dev/console", 5, 1)  # init's stdio before devtmpfs is mounted
    archive.file("bin/busybox", busybox.read_bytes(), 0o755)
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            archive.symlink(f"bin/{applet}", "busybox")
    archive.file("bin/workload", workload.read_bytes(), 0o755)
    archive.file("init", (GUEST_DIR / "init").read_bytes(), 0o755)
    for f in sorted((kernel_dir / "modules").iterdir()):
        archive.file(f"modules/{f.name}", f.read_bytes())
    if extra_modules:  # loaded by /init itself, by mode: not in modules/order
        archive.directory("modules/extra")
        for f in extra_modules:
            archive.file(f"modules/extra/{f.name}", f.read_bytes())
    # name -> (source path, permissions), parents first; directories implied.
    made = {"bin", "dev", "proc", "sys", "tmp", "modules"}
    for name, (source, perm) in sorted((extra_files or {}).items()):
        parts = name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in made:
                archive.directory(parent)
                made.add(parent)
        archive.file(name, Path(source).read_bytes(), perm)
    out.write_bytes(gzip.compress(archive.bytes(), compresslevel=6, mtime=0))


# --------------------------------------------------------------- QEMU + QMP


class Qmp:
    """Minimal synchronous QMP client over a unix socket."""

    def __init__(self, path, timeout=900):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.stream = self.sock.makefile("rwb")
        self._read()  # greeting
        self.command("qmp_capabilities")

    def _read(self):
        line = self.stream.readline()
        if not line:
            raise FixtureError("QEMU closed the QMP connection")
        return json.loads(line)

    def command(self, name, **arguments):
        self.stream.write(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        self.stream.flush()
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise FixtureError(f"QMP {name}: {reply['error'].get('desc', reply['error'])}")
            # anything else is an asynchronous event: skip it

    def close(self):
        with contextlib.suppress(OSError):
            self.stream.close()
            self.sock.close()


def qemu_command(suite, vmlinuz, initramfs, console, qmp_socket):
    append = " ".join([
        "console=ttyS0",
        "panic=0",          # hang on panic (never reboot) so QMP can dump the guest
        # On a busy host TCG's timer may miss the kernel's early check that
        # IRQ 0 ticks, and boot panics with "IO-APIC + timer doesn't work".
        "no_timer_check",
        "printk.time=1",
        f"kdive.mode={suite.mode}",  # read by /init; dotted, so not passed to init as an argument
    ])
    return [
        "qemu-system-x86_64",
        "-m", "512", "-smp", "2",
        "-cpu", suite.cpu,
        # Multi-threaded TCG randomly double-faults the 6.12 kernel early in boot.
        "-accel", "tcg,thread=single",
        "-device", "vmcoreinfo",
        "-nographic", "-no-reboot",
        "-nic", "none",
        "-serial", f"file:{console}",
        "-monitor", "none",
        "-qmp", f"unix:{qmp_socket},server=on,wait=off",
        "-kernel", str(vmlinuz),
        "-initrd", str(initramfs),
        "-append", append,
    ]


def console_text(console):
    try:
        return console.read_bytes().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""


def print_console_tail(text, lines=40):
    """After an error line: the last LINES lines of a guest's console on
    stderr (nothing when there is no console text)."""
    if not text:
        return
    tail = text.rstrip().splitlines()[-lines:]
    print("--- last lines of the guest console ---", *tail, sep="\n", file=sys.stderr)


def wait_for_console(console, needle, qemu, deadline, what):
    """Polls the console log until it contains NEEDLE; fails if QEMU exits or
    DEADLINE (time.monotonic()) passes."""
    while True:
        text = console_text(console)
        if needle in text:
            return text
        if qemu.poll() is not None:
            raise FixtureError(f"QEMU exited (status {qemu.returncode}) before {what}", text)
        if time.monotonic() > deadline:
            raise FixtureError(f"timed out after {BOOT_TIMEOUT} s waiting for {what}", text)
        time.sleep(0.25)


@contextlib.contextmanager
def qmp_errors():
    """Turns socket and protocol errors into FixtureError."""
    try:
        yield
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        raise FixtureError(f"talking to QEMU over QMP: {e}") from e


def dump_guest(qmp, path, fmt):
    # paging=false: a plain physical-memory dump (kdump formats require it);
    # detach=false: the command returns only once the dump is written.
    qmp.command("dump-guest-memory", paging=False, protocol=f"file:{path}", format=fmt, detach=False)
    status = qmp.command("query-dump")
    if status.get("status") != "completed":
        raise FixtureError(f"dump-guest-memory {fmt} ended with {status}")


def die_with_parent():
    """Runs in the QEMU child before exec: a killed builder (say, by a test
    timeout) must not leave a hung guest running."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def boot_and_dump(suite, kernel_dir, initramfs, work, timer):
    console = work / "console.log"
    qemu_log = work / "qemu.log"
    sock_dir = Path(tempfile.mkdtemp(prefix="kdive-qmp-"))  # short path: unix sockets have a length limit
    qmp_socket = sock_dir / "qmp.sock"
    cmd = qemu_command(suite, kernel_dir / "vmlinuz", initramfs, console, qmp_socket)
    # The swap device (/dev/vda in the guest): a sparse file, thrown away
    # with the build; the dump records which swap slots pages went to, the
    # tests never need their contents.
    swap = work / "swap.img"
    with open(swap, "wb") as f:
        f.truncate(SWAP_DISK_MIB << 20)
    cmd += ["-drive", f"file={swap},format=raw,if=virtio"]
    with open(qemu_log, "wb") as qlog:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
    qmp = None
    try:
        with timer.phase("boot-to-panic"):
            deadline = time.monotonic() + BOOT_TIMEOUT
            if suite.mode == "irq":
                wait_for_console(console, IRQ_READY, qemu, deadline, "CPU 0 to go idle")
                with qmp_errors():
                    qmp = Qmp(qmp_socket)
                    text = type_sysrq_crash(qmp, console, qemu)
            else:
                text = wait_for_console(console, PANIC_LINE, qemu, deadline, "the kernel panic")
            check_panic_reason(suite, text)
            # Let the panic finish printing (its end marker, then a moment).
            with contextlib.suppress(FixtureError):
                wait_for_console(console, PANIC_END, qemu, time.monotonic() + 15, "the end of the panic")
            time.sleep(2)
        with timer.phase("dump"), qmp_errors():
            qmp = qmp or Qmp(qmp_socket)
            qmp.command("stop")  # both dumps from one stopped guest
            dump_guest(qmp, work / "vmcore.elf", "elf")
            dump_guest(qmp, work / "vmcore.kdump-zlib", "kdump-zlib")
            with contextlib.suppress(FixtureError, OSError):  # QEMU may hang up before replying
                qmp.command("quit")
            qemu.wait(timeout=60)
    except FixtureError as e:
        if e.console is None:
            e.console = console_text(console)
        qemu_tail = qemu_log.read_text(errors="replace").strip()
        if qemu_tail:
            e.console += "\n[qemu] " + "\n[qemu] ".join(qemu_tail.splitlines()[-10:])
        raise
    finally:
        if qmp:
            qmp.close()
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        shutil.rmtree(sock_dir, ignore_errors=True)
    qemu_log.unlink()


def type_sysrq_crash(qmp, console, qemu):
    """Types alt-sysrq-c on the guest's PS/2 keyboard: the i8042 interrupt
    runs the sysrq handler, and so the panic, in hard-IRQ context.  Typed
    again if no panic follows (a key typed while the guest is not ready for it
    is lost)."""
    keys = [{"type": "qcode", "data": key} for key in ("alt", "sysrq", "c")]
    for attempt in range(IRQ_KEY_TRIES):
        qmp.command("send-key", keys=keys)
        with contextlib.suppress(FixtureError):
            return wait_for_console(console, PANIC_LINE, qemu, time.monotonic() + IRQ_KEY_RETRY_AFTER,
                                    "the kernel panic after alt-sysrq-c")
        if qemu.poll() is not None:
            break
    raise FixtureError(f"no kernel panic after typing alt-sysrq-c {IRQ_KEY_TRIES} times", console_text(console))


def check_panic_reason(suite, text):
    line = next(l for l in text.splitlines() if PANIC_LINE in l)
    if suite.panic_reason not in line:
        raise FixtureError(f"the guest panicked for the wrong reason: {line.strip()!r}", text)


# ------------------------------------------------------------ kdump suite

CAPTURE_TOOL_ARGS = {}  # NAME -> path, from `ensure --tool NAME=PATH`
DUMP_DIR_NAME = re.compile(r".+-\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d(\.\d+)?")


def capture_tools():
    """{name: path} of kdive's capture programs for the kdump suite."""
    tools = dict(CAPTURE_TOOL_ARGS)
    for item in os.environ.get("KDIVE_CAPTURE_TOOLS", "").split(","):
        if "=" in item:
            name, path = item.split("=", 1)
            tools.setdefault(name.strip(), path.strip())
    missing = [t for t in CAPTURE_TOOLS if t not in tools or not Path(tools[t]).is_file()]
    if missing:
        raise FixtureError(f"the kdump suite needs the built {', '.join(missing)}: pass --tool NAME=PATH "
                           "(the CTest fixture step does) or set KDIVE_CAPTURE_TOOLS=NAME=PATH,...")
    return {t: Path(tools[t]).resolve() for t in CAPTURE_TOOLS}


def shared_libraries(program):
    """The loader and the libraries PROGRAM needs, as the host's ldd resolves
    them; the guest gets them at the same paths."""
    out = run(["ldd", str(program)], f"ldd {program.name}")
    paths = []
    for line in out.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            paths.append(m.group(1))
    return paths


def kdump_guest_files(kernel_dir, debs, work):
    """The first kernel's extra files for the kdump suite: the capture programs
    (without debug info: the capture initramfs kdive-capture builds from them
    must fit the reservation) and their libraries, the kernel that
    `kdive-capture load` loads as the capture kernel, and the config."""
    staging = work / "guest-tools"
    staging.mkdir()
    files = {}
    for name, path in capture_tools().items():
        stripped = staging / name
        run(["objcopy", "--strip-debug", str(path), str(stripped)], f"stripping {name}")
        files[f"usr/sbin/{name}"] = (stripped, 0o755)
        for lib in shared_libraries(path):
            files.setdefault(lib.lstrip("/"), (Path(lib), 0o755))
    files["boot/vmlinuz"] = (kernel_dir / "vmlinuz", 0o644)
    # The guest's own module list, in its dependency order (virtio_ring,
    # virtio_pci_modern_dev, virtio_pci_legacy_dev, virtio, virtio_pci,
    # virtio_blk on 6.1): the capture kernel has no modules.dep to consult.
    order = [m for m in (kernel_dir / "modules" / "order").read_text().split()
             if m.removesuffix(".ko") not in KDUMP_SKIP_MODULES]
    modules = [f"/modules/{m}" for m in order]
    # The remote save's modules, from the same kernel package, after what
    # they depend on that the guest's list already has.
    remote = staging / "remote-modules"
    extract_modules(debs.image, deb_members(debs.image), debs.release, remote, KDUMP_REMOTE_MODULES)
    for m in (remote / "order").read_text().split():
        if f"/modules/{m}" not in modules:
            files[f"modules/capture/{m}"] = (remote / m, 0o644)
            modules.append(f"/modules/capture/{m}")
    config = KDUMP_CONFIG + "modules = " + " ".join(modules) + "\n"
    (staging / "capture.conf").write_text(config)
    files["etc/kdive/capture.conf"] = (staging / "capture.conf", 0o644)
    return files


def kdump_qemu_command(suite, vmlinuz, initramfs, console, remote_port):
    append = " ".join([
        "console=ttyS0",
        "panic=1",  # a capture kernel that panics too reboots, which -no-reboot turns into an exit
        # Under TCG on a busy host the boot-time check of the IO-APIC timer
        # can run out of time and panic ("IO-APIC + timer doesn't work!",
        # seen in the capture kernel, which inherits this command line).
        "no_timer_check",
        "printk.time=1",
        f"crashkernel={KDUMP_CRASHKERNEL}",
        f"kdive.mode={suite.mode}",
    ])
    return [
        "qemu-system-x86_64",
        "-m", str(KDUMP_MEMORY_MIB), "-smp", "2",
        "-cpu", suite.cpu,
        "-accel", "tcg,thread=single",
        "-nographic", "-no-reboot",
        "-nic", "none",
        "-serial", f"file:{console}",
        "-monitor", "none",
        "-kernel", str(vmlinuz),
        "-initrd", str(initramfs),
        "-append", append,
        # The remote save's channel (see KDUMP_REMOTE_PCI_SLOT): a client
        # socket to the builder's listener on 127.0.0.1:REMOTE_PORT.
        "-chardev", f"socket,id=remote,host=127.0.0.1,port={remote_port}",
        "-device", f"virtio-serial-pci,addr={KDUMP_REMOTE_PCI_SLOT}",
        "-device", f"virtserialport,chardev=remote,name={KDUMP_REMOTE_PORT},nr=1",
    ]


def split_console(console, capture_console):
    """Moves the capture kernel's output (from its "Linux version" banner after
    the panic) out of CONSOLE into CAPTURE_CONSOLE: console.log stays the
    crashed kernel's, as in the other suites (tests compare it with the
    dump's log and take the last printk stamp from it)."""
    raw = console.read_bytes()
    panic = raw.find(PANIC_LINE.encode())
    banner = raw.find(b"Linux version ", panic)
    if panic < 0 or banner < 0:
        raise FixtureError("no capture kernel banner after the panic on the console", console_text(console))
    start = raw.rfind(b"\n", 0, banner) + 1
    capture_console.write_bytes(raw[start:])
    console.write_bytes(raw[:start])


def debugfs(image, request, what):
    return run(["debugfs", "-R", request, str(image)], what)


def boot_and_capture(suite, kernel_dir, initramfs, work, timer):
    """Boots the guest with an ext4 dump disk (/dev/vdb); the guest arms
    capture, panics, and its capture kernel saves the dump onto the disk and
    powers off. The host then copies the dump out of the image with debugfs
    (no mounting, no root needed)."""
    console = work / "console.log"
    qemu_log = work / "qemu.log"
    swap = work / "swap.img"
    with open(swap, "wb") as f:
        f.truncate(SWAP_DISK_MIB << 20)
    disk = work / "dump.img"
    with open(disk, "wb") as f:
        f.truncate(DUMP_DISK_MIB << 20)
    run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "kdive-dumps", str(disk)], "making the dump disk")
    # The remote save's receiver end: QEMU connects here at start-up.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    cmd = kdump_qemu_command(suite, kernel_dir / "vmlinuz", initramfs, console, listener.getsockname()[1])
    cmd += ["-drive", f"file={swap},format=raw,if=virtio", "-drive", f"file={disk},format=raw,if=virtio"]
    with open(qemu_log, "wb") as qlog:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
    receiver = None
    receiver_log = work / "receiver.log"
    try:
        listener.settimeout(60)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            raise FixtureError("QEMU did not connect the remote-save channel to 127.0.0.1 within 60 s")
        finally:
            listener.close()
        # The connection is kdive-dump -R's stdin: it ends when QEMU exits.
        conn.setblocking(True)
        with conn, open(receiver_log, "wb") as rlog:
            receiver = subprocess.Popen([str(capture_tools()["kdive-dump"]), "-R", str(work / "vmcore.remote")],
                                        stdin=conn.fileno(), stdout=rlog, stderr=subprocess.STDOUT,
                                        preexec_fn=die_with_parent)
        with timer.phase("boot-to-panic"):
            # The first kernel also builds the capture initramfs: more time.
            text = wait_for_console(console, PANIC_LINE, qemu, time.monotonic() + BOOT_TIMEOUT + 240,
                                    "the kernel panic")
            check_panic_reason(suite, text)
        with timer.phase("capture"):
            try:
                qemu.wait(timeout=KDUMP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise FixtureError(f"the capture kernel did not power off within {KDUMP_TIMEOUT} s",
                                   console_text(console))
            text = console_text(console)
            if "kdive-capture: saved " not in text:
                raise FixtureError("the capture kernel did not save the dump", text)
            split_console(console, work / "capture-console.log")
        with timer.phase("receive"):
            try:
                status = receiver.wait(timeout=KDUMP_RECEIVE_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise FixtureError(f"kdive-dump -R did not finish within {KDUMP_RECEIVE_TIMEOUT} s of the "
                                   "capture kernel's power-off")
            said = receiver_log.read_text(errors="replace").strip()
            if status != 0:
                raise FixtureError(f"the remote save did not arrive: kdive-dump -R exited with {status}: {said}")
    except FixtureError as e:
        if e.console is None:
            e.console = console_text(console)
        qemu_tail = qemu_log.read_text(errors="replace").strip()
        if qemu_tail:
            e.console += "\n[qemu] " + "\n[qemu] ".join(qemu_tail.splitlines()[-10:])
        raise
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if receiver is not None and receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    qemu_log.unlink()
    receiver_log.unlink()
    check_remote_dump(work)

    with timer.phase("extract-dump"):
        # "ls -p": /inode/mode/uid/gid/name/size/ per entry.
        names = [line.split("/")[5] for line in debugfs(disk, "ls -p /", "listing the dump disk").splitlines()
                 if line.count("/") >= 6]
        dumps = [n for n in names if DUMP_DIR_NAME.fullmatch(n)]
        if len(dumps) != 1:
            raise FixtureError(f"the dump disk holds {len(dumps)} dump directories, not one: {names}")
        saved = {"vmcore": "vmcore.kdump-zlib", "dmesg.txt": "dmesg.txt",
                 "capture-meminfo.txt": "capture-meminfo.txt"}
        for name, dest in saved.items():
            debugfs(disk, f"dump /{dumps[0]}/{name} {work / dest}", f"copying {name} off the dump disk")
            if not (work / dest).is_file() or (work / dest).stat().st_size == 0:
                raise FixtureError(f"{dumps[0]}/{name} is missing or empty on the dump disk")


def check_remote_dump(work):
    """The remote save arrived whole: kdive-dump -R wrote vmcore.remote (not
    vmcore.remote.incomplete: the stream's end marker came), a kdump-compressed
    dump whose header does not say INCOMPLETE, taken at the copy's level; and
    the capture kernel said the stream went through."""
    capture = (work / "capture-console.log").read_text(errors="replace")
    if "kdive-capture: streamed " not in capture or "copy failed" in capture:
        raise FixtureError("the capture kernel did not stream the remote copy", capture)
    path = work / "vmcore.remote"
    if not path.is_file():
        raise FixtureError("kdive-dump -R succeeded but vmcore.remote is missing")
    with open(path, "rb") as f:
        header = f.read(4096)
        if header[:8] != b"KDUMP   ":
            raise FixtureError("vmcore.remote lacks the kdump-compressed signature")
        status, block_size = struct.unpack_from("<Ii", header, 424)
        if status & 0x8:
            raise FixtureError("vmcore.remote's header says INCOMPLETE")
        f.seek(block_size)
        level, = struct.unpack("<i", f.read(12)[8:12])
    wanted = int(re.search(r"^copy_dump_level = (\d+)$", KDUMP_CONFIG, re.M).group(1))
    if level != wanted:
        raise FixtureError(f"vmcore.remote was taken at level {level}, not the copy's {wanted}")
    path.chmod(0o644)  # kdive-dump creates dumps owner-read-only


def convert_kdump(work):
    """From the saved level-1 dump: an ELF copy (vmcore.elf, for the tests that
    read ELF) and a level-31 copy for the filter tests, both by kdive-dump."""
    dump = capture_tools()["kdive-dump"]
    run([str(dump), "-E", "-d", "1", str(work / "vmcore.kdump-zlib"), str(work / "vmcore.elf")],
        "kdive-dump -E of the saved dump")
    run([str(dump), "-d", "31", "-c", str(work / "vmcore.kdump-zlib"), str(work / "vmcore.kdump-d31")],
        "kdive-dump -d 31 of the saved dump")
    for name in ("vmcore.elf", "vmcore.kdump-d31"):
        (work / name).chmod(0o644)  # kdive-dump creates dumps owner-read-only


# ------------------------------------------------------------- validation


def check_dump_magic(work, kdump=False):
    with open(work / "vmcore.elf", "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise FixtureError("vmcore.elf is not an ELF file")
    if kdump:
        for name in ("vmcore.kdump-zlib", "vmcore.kdump-d31"):
            with open(work / name, "rb") as f:
                if f.read(8) != b"KDUMP   ":
                    raise FixtureError(f"{name} lacks the kdump-compressed signature")
        return
    with open(work / "vmcore.kdump-zlib", "rb") as f:
        # QEMU writes kdump formats in makedumpfile's "flattened" format.
        if f.read(16) != b"makedumpfile\0\0\0\0":
            raise FixtureError("vmcore.kdump-zlib lacks the makedumpfile (flattened) signature")


def elf_vmcoreinfo(path):
    """The VMCOREINFO note of an ELF core file as {key: value}, or {}."""
    with open(path, "rb") as f:
        header = f.read(64)
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
        for i in range(phnum):
            p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", phdrs, i * phentsize)
            if p_type != 4:  # PT_NOTE
                continue
            f.seek(p_offset)
            notes = f.read(p_filesz)
            pos = 0
            while pos + 12 <= len(notes):
                namesz, descsz, _ = struct.unpack_from("<III", notes, pos)
                name = notes[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                desc_at = pos + 12 + (namesz + 3) // 4 * 4
                desc = notes[desc_at:desc_at + descsz]
                pos = desc_at + (descsz + 3) // 4 * 4
                if name == b"VMCOREINFO":
                    text = desc.decode("utf-8", "replace")
                    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
    return {}


# Records the guest prints, and for some the shape a line must have (a line
# garbled by an interleaved kernel message fails it and is dropped).
TRUTH_SHAPES = {
    "task": r"task \d+ \d+ \d+ [A-Za-z] .+",
    "task_cpu": r"task_cpu \d+ \d+",
    "threads": r"threads \d+ \d+",
    "role": r"role [a-z]+ \d+",
    "panic_cpu_idle": r"panic_cpu_idle \d+",
    "fd": r"fd \d+ \d+ .+",
    "map": r"map \d+ [0-9a-f]+-[0-9a-f]+ [-rwxps]{4} .*",
    "pattern": r"pattern \d+ 0x[0-9a-f]+ \d+ \S+",
    "meminfo": r"meminfo \S+ \d+",
    "status": r"status \d+ [A-Za-z]+ \d+",
    "cpus": r"cpus \d+",
    "cpu_la57": r"cpu_la57 (yes|no)",
    "sysctl": r"sysctl \S+ \S+",
    "ksym": r"ksym \S+ 0x[0-9a-f]+",
    "kvar": r"kvar \S+ 0x[0-9a-f]+",
    "loadavg": r"loadavg \d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+",
    "uptime": r"uptime \d+\.\d\d \d+\.\d\d",
    "date": r"date \d+",
    "dmi": r"dmi [a-z_]+ .*",
    "test_module": r"test_module \S+( \S+)+",
    "modsym": r"modsym \S+ \S+ [A-Za-z] 0x[0-9a-f]+",
    "pagemap": r"pagemap \d+ 0x[0-9a-f]+ (present 0x[0-9a-f]+|swap \d+ 0x[0-9a-f]+|none)",
    "hugepage": r"hugepage \d+ 0x[0-9a-f]+ \d+",
    "swaps": r"swaps /\S+\s+\w+\s+\d+\s+\d+\s+-?\d+",
    "slabinfo": r"slabinfo \S+( +\d+){5} : tunables( +\d+){3} : slabdata( +\d+){3}",
    "buddyinfo": r"buddyinfo Node \d+, zone +\w+( +\d+)+ *",
    "vmallocinfo": r"vmallocinfo 0x[0-9a-f]+-0x[0-9a-f]+ +\d+ .*",
    "vmstat": r"vmstat \w+ \d+",
    "smaps": r"smaps \d+ [0-9a-f]+-[0-9a-f]+ \w+ \d+",
    # System state (dev, irq, net, mount, ipcs, bpf, sig; tests/vm/README.md).
    "interrupts": r"interrupts .+",
    "devices": r"devices (char|block) \d+ \S+",
    "netdev": r"netdev \S+ \d+ \d+ \d+ \d+",
    "netaddr": r"netaddr \S+ \d+\.\d+\.\d+\.\d+/\d+",
    "arp": r"arp \d+\.\d+\.\d+\.\d+ 0x[0-9a-f]+ 0x[0-9a-f]+ [0-9a-f:]+ \S+",
    "tcp_listen": r"tcp_listen \d+ 127\.0\.0\.1 \d+ \d+",
    "tcp_conn": r"tcp_conn \d+ \d+ \d+ \d+ \d+",
    "unix_pair": r"unix_pair \d+ \d+ \d+ \d+ \d+",
    "sysvipc": r"sysvipc (shm|sem|msg) 0x[0-9a-f]{8} \d+ .+",
    "ipc_id": r"ipc_id \d+ (shm|sem|msg) 0x[0-9a-f]+ \d+",
    "shm_attach": r"shm_attach \d+ 0x[0-9a-f]+ \d+",
    "tmpfs_file": r"tmpfs_file \d+ \d+ /\S+",
    "bpf": r"bpf (prog \d+ \w+ \w+|map \d+ \w+ \w+ \d+ \d+ \d+)",
    "bpf_fd": r"bpf_fd \d+ \d+ (prog|map) \d+",
    "bpf_socket": r"bpf_socket \d+ \d+ \d+",
    "diskstats": r"diskstats \d+ \d+ vda( \d+)+",
    "sig": r"sig \d+ (SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt) [0-9a-f]{16}",
    "end": r"end",
}
TRUTH_RECORDS = set(TRUTH_SHAPES) | {"uname", "release", "version", "cmdline", "hostname", "module", "mount",
                                     "warning", "error"}
REQUIRED_TRUTH = {"uname", "release", "version", "cpus", "cpu_la57", "sysctl", "meminfo", "role", "fd", "map",
                  "task", "task_cpu", "threads", "loadavg", "uptime", "date", "dmi", "pagemap", "hugepage",
                  "slabinfo", "buddyinfo", "vmallocinfo", "vmstat", "smaps", "end",
                  "interrupts", "devices", "netdev", "netaddr", "tcp_listen", "tcp_conn", "unix_pair", "sysvipc",
                  "ipc_id", "tmpfs_file", "bpf", "bpf_fd", "diskstats", "sig"}
KERNEL_TIMESTAMP = re.compile(r"\[\s*\d+\.\d{6}\]")


def extract_truth(suite, console):
    """The KDIVE-TRUTH lines of the console, prefix and CRs stripped."""
    records = []
    for line in console.splitlines():
        if not line.startswith(TRUTH_PREFIX):
            continue
        record = line[len(TRUTH_PREFIX):]
        kind = record.split(" ", 1)[0]
        shape = TRUTH_SHAPES.get(kind)
        garbled = (kind not in TRUTH_RECORDS or TRUTH_PREFIX in record or KERNEL_TIMESTAMP.search(record)
                   or (shape and not re.fullmatch(shape, record)))
        if garbled:
            log(suite.name, f"dropping garbled truth line: {record!r}")
            continue
        records.append(record)
    return records


def validate_truth(suite, records, vmcoreinfo, console):
    def fail(message):
        raise FixtureError(message, console)

    if not records or records[-1] != "end":
        fail("the guest's truth has no final 'end' line")
    fields = [r.split(" ") for r in records]
    errors = [r for r in records if r.startswith("error ")]
    if errors:
        fail(f"the guest reported: {errors[0]}")
    for r in records:
        if r.startswith("warning "):
            log(suite.name, f"guest {r}")
    kinds = {f[0] for f in fields}
    missing = REQUIRED_TRUTH - kinds
    if missing:
        fail(f"the guest's truth lacks {sorted(missing)} lines")
    if not any(f[:2] == ["sysctl", "panic_on_oom"] for f in fields):
        fail("the guest's truth lacks 'sysctl panic_on_oom'")
    if "la57=off" in suite.cpu and "cpu_la57 no" not in records:
        fail("the guest uses 5-level paging although QEMU was given la57=off")
    release = next(f[1] for f in fields if f[0] == "release")
    roles = {f[1]: f[2] for f in fields if f[0] == "role"}
    # The memory workload's pages: without swap entries and a huge page the
    # swap and hugepage paths of the tests would pass on zeros.
    pagemap = [f for f in fields if f[0] == "pagemap"]
    if suite.mode != "oom":
        if not any(f[0] == "swaps" for f in fields):
            fail("the guest's truth has no swap device (swaps)")
        if not any(f[3] == "swap" for f in pagemap):
            fail("no page of the memory workload went to swap (pagemap)")
    huge = next((f for f in fields if f[0] == "hugepage"), None)
    if huge is None or not any(f[2] == huge[2] and f[3] == "present" for f in pagemap):
        fail("the memory workload's huge page is not present (pagemap)")
    wanted = {"threaded", "sleeper", "busy", "files", "mmap", "memory"} | set(SYSTEM_STATE_ROLES)
    if suite.mode == "oom":
        wanted.add("oom")
    elif suite.mode == "irq":  # the idle task panics: no process has the role
        if "panic_cpu_idle 0" not in records:
            fail("the irq guest's truth lacks 'panic_cpu_idle 0'")
    else:
        wanted.add("panic")
    if wanted - roles.keys():
        fail(f"the guest's truth lacks roles {sorted(wanted - roles.keys())}")
    tasks = {f[1] for f in fields if f[0] == "task"}
    if not set(roles.values()) <= tasks:
        fail(f"role pids {sorted(set(roles.values()) - tasks)} are missing from the task list")
    if f"threads {roles['threaded']} 4" not in records:
        fail("the threaded workload does not have 4 threads")
    if suite.test_module:
        validate_test_module_truth(suite, fields, fail)
    validate_system_state_truth(records, fields, roles, fail)
    osrelease = vmcoreinfo.get("OSRELEASE")
    if osrelease is None:
        fail("vmcore.elf has no VMCOREINFO note (was qemu_fw_cfg loaded in the guest?)")
    if osrelease != release:
        fail(f"VMCOREINFO OSRELEASE {osrelease!r} differs from the guest's release {release!r}")


# What the system-state workloads and /init set up (data/guest/workload.c).
SYSTEM_STATE_ROLES = ("net", "ipc", "bpf", "signals")
NET_PORT = 7070
SYSVIPC_KEYS = {"shm": "0x4b444901", "sem": "0x4b444902", "msg": "0x4b444903"}
NET_DEVICE = ("kdive0", "10.77.0.1/24")
NEIGHBOUR = ("10.77.0.2", "02:00:00:00:77:02")
TMPFS_DIR = "/mnt/kdive-tmpfs"
BPF_NAMES = {"prog": "kdive_filter", "map": "kdive_map"}
ATF_PERM = 0x4  # /proc/net/arp flags: a permanent (static) entry


def validate_system_state_truth(records, fields, roles, fail):
    """The objects the system-state commands must find are in the truth, each
    with the ids the kernel gave it: without them a test of ipcs, bpf, net -a
    or dev -d would pass on nothing."""
    net = roles["net"]
    if not any(f[0] == "tcp_listen" and f[1] == net and f[3] == str(NET_PORT) for f in fields):
        fail(f"the guest's truth lacks the listener on 127.0.0.1:{NET_PORT} (tcp_listen)")
    if sum(1 for f in fields if f[0] == "tcp_conn" and f[1] == net) != 2:
        fail("the guest's truth lacks the two ends of the loopback TCP connection (tcp_conn)")
    if not any(f[0] == "unix_pair" and f[1] == net for f in fields):
        fail("the guest's truth lacks the net workload's socketpair (unix_pair)")
    if "warning no dummy0: the kernel has no dummy module, so no kdive0" not in records:
        if f"netaddr {NET_DEVICE[0]} {NET_DEVICE[1]}" not in records:
            fail(f"the guest's truth lacks {NET_DEVICE[0]}'s address {NET_DEVICE[1]} (netaddr)")
        arp = [f for f in fields if f[0] == "arp" and f[1] == NEIGHBOUR[0]]
        if not arp or arp[0][4] != NEIGHBOUR[1] or arp[0][5] != NET_DEVICE[0] or not int(arp[0][3], 16) & ATF_PERM:
            fail(f"the guest's truth lacks the permanent neighbour {' '.join(NEIGHBOUR)} on {NET_DEVICE[0]} (arp)")
        if not any(f[0] == "netdev" and f[1] == NET_DEVICE[0] for f in fields):
            fail(f"the guest's truth lacks {NET_DEVICE[0]} in /proc/net/dev (netdev)")
    ids = {(f[2], f[3]): f[4] for f in fields if f[0] == "ipc_id" and f[1] == roles["ipc"]}
    for kind, key in SYSVIPC_KEYS.items():
        if not any(f[:3] == ["sysvipc", kind, key] and ids.get((kind, key)) == f[3] for f in fields):
            fail(f"the guest's truth lacks the SysV {kind} {key} with the id the ipc workload got (sysvipc)")
    if not any(f[0] == "mount" and f[2] == TMPFS_DIR and f[3] == "tmpfs" for f in fields):
        fail(f"the guest's truth lacks the tmpfs on {TMPFS_DIR} (mount)")
    held = [f for f in fields if f[0] == "tmpfs_file" and f[1] == roles["ipc"]]
    if not held or not any(f[0] == "fd" and f[1:3] == held[0][1:3] and f[3].startswith(TMPFS_DIR) for f in fields):
        fail(f"the ipc workload's file on {TMPFS_DIR} is not in its fd table (tmpfs_file, fd)")
    for kind, name in BPF_NAMES.items():
        objects = [f for f in fields if f[:2] == ["bpf", kind] and f[4] == name]
        if not objects or int(objects[0][2]) == 0:
            fail(f"the guest's truth lacks the BPF {kind} {name} with its id (bpf)")
    if not any(f[0] == "diskstats" for f in fields):
        fail("the guest's truth lacks vda's /proc/diskstats line (diskstats)")
    # SIGUSR1 (10) caught, SIGUSR2 (12) blocked and pending (thread and
    # process), SIGTERM (15) ignored: bit N-1 of each mask.
    masks = {f[2]: int(f[3], 16) for f in fields if f[0] == "sig" and f[1] == roles["signals"]}
    wanted_bits = {"SigCgt": 10, "SigBlk": 12, "SigPnd": 12, "ShdPnd": 12, "SigIgn": 15}
    wrong = [mask for mask, sig in wanted_bits.items() if not masks.get(mask, 0) >> (sig - 1) & 1]
    if wrong:
        fail(f"the signals workload's {', '.join(wrong)} lack their signals (sig)")
    if not any(f[:2] == ["sysctl", "tainted"] for f in fields):
        fail("the guest's truth lacks 'sysctl tainted'")


def validate_test_module_truth(suite, fields, fail):
    """The modoops guest loaded the test module and named its call chain, each
    function with its run-time address."""
    chains = [f[2:] for f in fields if f[0] == "test_module" and f[1] == suite.test_module]
    if chains != [list(TEST_MODULE_CHAIN)]:
        fail(f"the guest's test_module truth {chains} is not {suite.test_module} {' '.join(TEST_MODULE_CHAIN)}")
    if not any(f[0] == "module" and f[1] == suite.test_module for f in fields):
        fail(f"{suite.test_module} is not in the guest's /proc/modules")
    symbols = {f[2]: int(f[4], 16) for f in fields if f[0] == "modsym" and f[1] == suite.test_module}
    missing = [name for name in TEST_MODULE_CHAIN if not symbols.get(name)]
    if missing:
        fail(f"the guest's /proc/kallsyms lacks {missing} of {suite.test_module} (or shows them as 0)")


# ------------------------------------------------------------------- build


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build(suite, timer):
    root = fixtures_root()
    with file_lock(f"dist-{suite.dist}", suite.name):
        with timer.phase("download"):
            debs = fetch_kernel(suite)
            header_debs = fetch_headers(suite, debs) if suite.test_module else []
        log(suite.name, f"kernel {debs.package} {debs.version}")
        with timer.phase("extract"):
            kernel_dir = extract_kernel(suite, debs)
            headers_dir = extract_headers(suite, debs, header_debs) if suite.test_module else None

    remove_stale(root, f".{suite.name}.build-")
    work = Path(tempfile.mkdtemp(dir=root, prefix=f".{suite.name}.build-"))
    try:
        extra_modules = []
        if suite.test_module:
            with timer.phase("module"):
                extra_modules.append(build_test_module(headers_dir, work))
        extra_files = kdump_guest_files(kernel_dir, debs, work) if suite.mode == "kdump" else {}
        with timer.phase("initramfs"):
            compile_workload(work / "workload")
            build_initramfs(kernel_dir, work / "workload", work / "initramfs.cpio.gz", extra_modules, extra_files)
        if suite.mode == "kdump":
            boot_and_capture(suite, kernel_dir, work / "initramfs.cpio.gz", work, timer)
            with timer.phase("convert"):
                convert_kdump(work)
        else:
            boot_and_dump(suite, kernel_dir, work / "initramfs.cpio.gz", work, timer)

        console = console_text(work / "console.log")
        check_dump_magic(work, kdump=suite.mode == "kdump")
        records = extract_truth(suite, console)
        validate_truth(suite, records, elf_vmcoreinfo(work / "vmcore.elf"), console)
        header = [f"suite {suite.name}", f"kernel_package {debs.package} {debs.version}"]
        (work / "truth.txt").write_text("\n".join(header + records) + "\n")

        for name in ("vmlinux", "vmlinuz"):
            link_or_copy(kernel_dir / name, work / name)
        for name in ("workload", "initramfs.cpio.gz", "swap.img", "dump.img", "guest-tools"):
            path = work / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        if suite.test_module:
            # The module as loaded (its DWARF included), for tests that read
            # its symbols or lines; the build tree goes.
            (work / "modules").mkdir()
            for ko in extra_modules:
                os.replace(ko, work / "modules" / ko.name)
            shutil.rmtree(work / TEST_MODULE_DIR)
        for name in ("vmcore.elf", "vmcore.kdump-zlib"):
            (work / name).chmod(0o644)  # QEMU creates them owner-read-only
        (work / COMPLETE_STAMP).write_text(f"{suite.name} {debs.package} {debs.version}\nrecipe {suite_recipe(suite)}\n")
        final = fixture_dir(suite.name)
        shutil.rmtree(final, ignore_errors=True)  # an incomplete leftover
        os.replace(work, final)  # the fixture appears whole, with its stamp, or not at all
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_debug_modules(suite, directory):
    """The -dbg package's copies of GUEST_MODULES (with DWARF, unlike the
    image's) next to the kernel's other extracted files, in debug-modules/.
    Kept apart from the suite's recipe: adding them needs no guest rebuild."""
    header = dict(line.split(" ", 1) for line in (directory / "truth.txt").read_text().splitlines()[:2])
    package, version = header["kernel_package"].split()
    kernel_dir = fixtures_root() / "kernels" / f"{package}_{version}"
    dest = kernel_dir / "debug-modules"
    if all((dest / f"{name}.ko").is_file() for name in GUEST_MODULES):
        return dest
    with file_lock(f"dist-{suite.dist}", suite.name):
        if all((dest / f"{name}.ko").is_file() for name in GUEST_MODULES):
            return dest
        dbg = fixtures_root() / "debs" / f"{package}-dbg_{version}_amd64.deb"
        if not dbg.is_file():
            debs = fetch_kernel(suite)
            if (debs.package, debs.version) != (package, version):
                raise FixtureError(f"{dbg.name} is gone and the archive now offers {debs.package} {debs.version}")
            dbg = debs.dbg
        release = package.removeprefix("linux-image-")
        wanted = {name: m for m in deb_members(dbg) for name in GUEST_MODULES
                  if re.search(rf"/usr/lib/debug/lib/modules/{re.escape(release)}/.*/{name}\.ko(\.\w+)?$", m)}
        missing = [n for n in GUEST_MODULES if n not in wanted]
        if missing:
            raise FixtureError(f"{dbg.name} has no debug object for {', '.join(missing)}")
        scratch = kernel_dir / ".debug-modules.scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        paths = extract_members(dbg, list(wanted.values()), scratch)
        dest.mkdir(parents=True, exist_ok=True)
        for name, path in zip(wanted, paths):
            tmp = dest / f".{name}.ko.tmp"
            tmp.write_bytes(decompress_module(path))
            os.replace(tmp, dest / f"{name}.ko")
        shutil.rmtree(scratch, ignore_errors=True)
        log(suite.name, f"debug objects of {', '.join(wanted)} from {dbg.name}")
    return dest


def ensure(suite_name):
    suite = SUITES[suite_name]
    directory = fixture_dir(suite_name)
    if is_complete(directory):
        ensure_debug_modules(suite, directory)
        return directory
    fixtures_root().mkdir(parents=True, exist_ok=True)
    with file_lock(suite_name, suite_name):
        if is_complete(directory):  # another process built it while we waited
            return directory
        timer = Timer()
        start = time.monotonic()
        build(suite, timer)
        log(suite_name, f"built in {time.monotonic() - start:.1f} s ({timer.summary()})")
    ensure_debug_modules(suite, directory)
    return directory


# --------------------------------------------------------------------- CLI


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build and locate kdive's real-kernel crash-dump fixtures.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ensure = sub.add_parser("ensure", help="build missing fixtures, print their directories")
    p_ensure.add_argument("suites", nargs="+", choices=list(SUITES), metavar="SUITE")
    p_ensure.add_argument("--tool", action="append", default=[], metavar="NAME=PATH",
                          help="a built capture program for the kdump suite (kdive-capture, kdive-kexec, kdive-dump)")
    p_dir = sub.add_parser("dir", help="print a fixture's directory without building")
    p_dir.add_argument("suite", choices=list(SUITES), metavar="SUITE")
    sub.add_parser("list", help="print the suite names")
    args = parser.parse_args(argv)
    # On SIGTERM, unwind normally: temp dirs are removed and QEMU is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    for item in getattr(args, "tool", []):
        name, _, path = item.partition("=")
        CAPTURE_TOOL_ARGS[name] = path
    if args.command == "list":
        print("\n".join(SUITES))
    elif args.command == "dir":
        print(fixture_dir(args.suite))
    else:
        for name in args.suites:
            try:
                print(ensure(name), flush=True)
            except FixtureError as e:
                print(f"fixtures: error: {name}: {e}", file=sys.stderr)
                print_console_tail(e.console)
                return 1
            except Exception as e:  # a bug or an unexpected environment: still one clear line
                print(f"fixtures: error: {name}: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
