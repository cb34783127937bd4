#include "text/jinja/template.h"

#include "text/jinja/parser.h"
#include "text/jinja/scope.h"

namespace pangolin::jinja {

Template::Template(std::string_view source)
    : src_(source), body_(parse(src_)), locals_(analyze_scopes(body_)) {}

std::string Template::render(const std::vector<std::pair<std::string, Value>>& variables,
                             const RenderOptions& opts) const {
    std::tm now{};
    if (opts.now) {
        now = *opts.now;
    } else {
        const std::time_t t = std::time(nullptr);
        localtime_r(&t, &now);
    }
    auto context = std::make_shared<Frame>();
    context->vars = variables;
    Interp interp(src_, opts.limits, now);
    return interp.render(body_, child_frame(context, locals_));
}

}  // namespace pangolin::jinja
