// A parsed Jinja2 template, rendered as Hugging Face renders chat templates: Python Jinja2's
// ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls, the
// `tojson` filter without ASCII or HTML escaping, and the globals raise_exception and
// strftime_now. Parse once, render many times (render is const and thread-safe).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/interp.h"
#include "text/jinja/lexer.h"
#include "text/jinja/value.h"

namespace pangolin::jinja {

struct RenderOptions {
    Limits limits;
    std::optional<std::tm> now;  // the time strftime_now() formats; unset: the local time now
};

class Template {
  public:
    // Throws Error("template syntax error at line L, column C: ...") on a bad template.
    explicit Template(std::string_view source);

    // `variables` are the template's top-level names. Throws RaisedError (exactly the
    // template's message) for raise_exception(), Error naming the line for other failures.
    std::string render(const std::vector<std::pair<std::string, Value>>& variables,
                       const RenderOptions& opts = {}) const;

  private:
    Source src_;
    Body body_;
    std::vector<std::string> locals_;  // the template scope's (scope.h)
};

}  // namespace pangolin::jinja
