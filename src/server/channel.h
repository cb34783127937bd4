// Events of one HTTP request's generations, from the engine thread to the HTTP thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "runtime/engine.h"

namespace pangolin::server {

struct ChannelEvent {
    int choice = 0;
    bool finished = false;
    TokenEvent token;      // when !finished
    RequestResult result;  // when finished
};

class Channel {
  public:
    void push(ChannelEvent ev) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            events_.push_back(std::move(ev));
        }
        cv_.notify_one();
    }
    // Waits up to `timeout` for an event; false when none came.
    bool pop(ChannelEvent& ev, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
        ev = std::move(events_.front());
        events_.pop_front();
        return true;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ChannelEvent> events_;
};

}  // namespace pangolin::server
