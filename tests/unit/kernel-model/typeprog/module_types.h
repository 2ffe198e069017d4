/* Types only the "module" object defines, shared by module.c (compiled with
 * -c into a relocatable object, like a .ko) and the C++ test, which takes the
 * expected layout from its own compiler. */
struct module_list_head {
  struct module_list_head *next, *prev;
};

struct module_only {
  int id;
  long weight;
  char name[12];
  struct module_list_head list;
};

enum module_state_like { MODULE_LIKE_LIVE = 0, MODULE_LIKE_GOING = 250 };
