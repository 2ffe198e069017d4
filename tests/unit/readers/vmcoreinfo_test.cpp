#include "readers/vmcoreinfo.hpp"

#include <catch2/catch.hpp>

using kdive::VmcoreInfo;

TEST_CASE("VMCOREINFO values by kind", "[vmcoreinfo]") {
  VmcoreInfo info(
      "OSRELEASE=6.1.0-56-cloud-amd64\n"
      "PAGESIZE=4096\n"
      "SYMBOL(init_uts_ns)=ffffffff82a12340\n"
      "OFFSET(printk_info.seq)=0\n"
      "SIZE(printk_info)=88\n"
      "LENGTH(mem_section)=2048\n"
      "NUMBER(phys_base)=-2113929216\n"
      "NUMBER(pgtable_l5_enabled)=1\n"
      "KERNELOFFSET=1e000000\n"
      "garbage line without equals\n"
      "=novalue\n");
  CHECK(info.get("OSRELEASE") == "6.1.0-56-cloud-amd64");
  CHECK(info.page_size() == 4096u);
  CHECK(info.symbol("init_uts_ns") == 0xffffffff82a12340ull);
  CHECK(info.offset("printk_info.seq") == 0u);
  CHECK(info.size("printk_info") == 88u);
  CHECK(info.length("mem_section") == 2048u);
  CHECK(info.number("phys_base") == -2113929216);
  CHECK(info.number("pgtable_l5_enabled") == 1);
  CHECK(info.kernel_offset() == 0x1e000000u);
  CHECK_FALSE(info.symbol("missing"));
  CHECK_FALSE(info.get(""));
}

TEST_CASE("VMCOREINFO rejects malformed numbers instead of guessing", "[vmcoreinfo]") {
  VmcoreInfo info("SYMBOL(a)=xyz\nSIZE(b)=12abc\nNUMBER(c)=\nKERNELOFFSET=0x2000\n");
  CHECK_FALSE(info.symbol("a"));
  CHECK_FALSE(info.size("b"));
  CHECK_FALSE(info.number("c"));
  CHECK(info.kernel_offset() == 0x2000u);
  CHECK(VmcoreInfo("").empty());
}
