// Stop strings over streamed text: text is released only once it cannot be the start of a
// stop string, so a stop string is never emitted, also when it straddles two tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pangolin {

class StopMatcher {
  public:
    explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    // Adds generated text; returns what can be emitted now. After a stop string completes,
    // stopped() is true and everything from the stop string on is dropped.
    std::string push(std::string_view text);
    // The text still held back (generation ended without a stop string).
    std::string flush();
    bool stopped() const { return stopped_; }
    // The stop string that ended the text (the earliest one; "" before).
    const std::string& matched() const { return matched_; }

  private:
    std::vector<std::string> stops_;
    std::string held_;
    std::string matched_;
    bool stopped_ = false;
};

}  // namespace pangolin
