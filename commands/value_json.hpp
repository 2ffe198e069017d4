// A typed kernel value as JSON, for commands whose result holds structure
// members (task, and task -R): structs and unions as objects (member -> value;
// the members of an anonymous struct or union stand in their parent, as C
// names them), arrays as arrays, char arrays as text up to their first NUL,
// pointers and function addresses as "0x..." strings, integers as numbers
// (as "0x..." strings beyond 2^53, where a JSON reader would round them),
// _Bool as true/false, enums by name (a value with no name as a number).
// A member that cannot be read is {"error": "..."}; the rest still is.
//
//   Value v = Value::in_memory(ctx, task.address, &task_struct);
//   Json j = value_json(v);                 // {"__state": 0, "stack": "0xffff...", ...}
//   Json pid = value_json(v.member("pid"));  // 97
#pragma once

#include "commands/api/json_values.hpp"
#include "kernel-model/expression.hpp"

namespace kdive {

Json value_json(const Value& value);

}  // namespace kdive
