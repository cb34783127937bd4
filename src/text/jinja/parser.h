// Tokens → statement and expression trees, with Jinja2's grammar and operator precedence.
#pragma once

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace pangolin::jinja {

// Nesting of expressions and blocks beyond this is a syntax error, so that hostile templates
// cannot exhaust the stack of the parser or of the evaluator.
constexpr int k_max_parse_depth = 200;

// Throws Error naming the line and column of the first syntax error.
Body parse(const Source& src);

}  // namespace pangolin::jinja
