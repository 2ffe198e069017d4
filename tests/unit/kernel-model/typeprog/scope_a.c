// One of two files that define the same names differently, as kernel .c
// files do with their private structs and static variables (the text-scope
// test, type_scope_test.cpp). The globals named scope_a_* hold the
// compiler's own answers: sizes, offsets and addresses.
#include <stddef.h>

struct local {
  int a_only;
  char a_name[8];
};
typedef struct local local_t;
enum mode { MODE_X = 1 };
static int counter = 11;

unsigned long scope_a_sizeof_local = sizeof(struct local);
unsigned long scope_a_offsetof_a_name = offsetof(struct local, a_name);
unsigned long scope_a_sizeof_local_t = sizeof(local_t);
int *scope_a_counter = &counter;
long scope_a_mode_x = MODE_X;

int scope_a_func(void) {
  // A type only this function defines.
  struct inner {
    long in_a;
  } x = {counter};
  static int calls;
  // Its size, where the test finds it through the scope (a static local).
  static unsigned long inner_size = sizeof(struct inner);
  return (int)x.in_a + ++calls + MODE_X + (int)inner_size;
}

int scope_b_func(void);

int main(void) { return scope_a_func() + scope_b_func(); }
