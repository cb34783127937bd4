// Jinja2's static scoping, which a tree-walking evaluator would otherwise miss.
//
// Jinja2 compiles every scope (the template, a loop body, a macro, a with/filter/set block)
// to Python locals. A name whose first mention at a scope's own level is an assignment (not
// inside an if, which resolves it from outside) becomes a local that is undefined until the
// assignment runs, unless an enclosing scope already knows the name. Nested scopes that read
// it before the assignment see undefined, not the caller's variable of the same name:
//   {% for m in messages %}{{ x }}{% endfor %}{% set x = 1 %}   prints nothing for x.
#pragma once

#include <string>
#include <vector>

#include "text/jinja/ast.h"

namespace pangolin::jinja {

// Fills Node::locals / else_locals and MacroDef::locals everywhere below `root`, and returns
// the template scope's own list.
std::vector<std::string> analyze_scopes(Body& root);

}  // namespace pangolin::jinja
