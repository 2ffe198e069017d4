/* A stand-in for a kernel module's debug info: compiled with -c, so every
 * reference from its .debug_info to .debug_str is a relocation, as in a .ko. */
#include "module_types.h"

struct module_only module_instance = {.id = 7, .weight = -3, .name = "mod-obj"};
enum module_state_like module_state = MODULE_LIKE_GOING;

int module_function(struct module_only *m) { return m->id; }
