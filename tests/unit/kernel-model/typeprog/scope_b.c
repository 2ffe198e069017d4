// The other file of the text-scope test (see scope_a.c): the same names,
// other definitions.
#include <stddef.h>

struct local {
  long b_first;
  long b_second;
  short b_third;
  // An array of an anonymous struct, as arch/x86/pci/irq.c's struct irq_info has.
  struct {
    char c;
    short s;
  } pairs[2];
};
typedef int local_t;
enum mode { MODE_X = 7 };
static long counter = 22;

unsigned long scope_b_sizeof_local = sizeof(struct local);
unsigned long scope_b_offsetof_b_third = offsetof(struct local, b_third);
unsigned long scope_b_offsetof_pairs = offsetof(struct local, pairs);
unsigned long scope_b_sizeof_local_t = sizeof(local_t);
long *scope_b_counter = &counter;
long scope_b_mode_x = MODE_X;

int scope_b_func(void) {
  struct inner {
    char in_b[3];
  } x = {{1, 2, 3}};
  static int calls = 5;
  static unsigned long inner_size = sizeof(struct inner);
  return x.in_b[0] + ++calls + (int)counter + MODE_X + (int)inner_size;
}
