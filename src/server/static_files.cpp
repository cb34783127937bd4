// The chat page, compiled into the binary from src/server/web/ (embed.cmake).
#include "server/server_state.h"

extern const unsigned char k_web_index[];
extern const size_t k_web_index_size;

namespace pangolin::server {

bool serve_static(const std::string& path, httplib::Response& res) {
    if (path != "/" && path != "/index.html") return false;
    res.set_header("Cache-Control", "no-cache");
    res.set_content(reinterpret_cast<const char*>(k_web_index), k_web_index_size,
                    "text/html; charset=utf-8");
    return true;
}

}  // namespace pangolin::server
