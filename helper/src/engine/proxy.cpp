#include "engine/proxy.hpp"

#include <cstdlib>

namespace qdi::engine {

std::vector<std::string> ProxyBuildArgs() {
  std::vector<std::string> args;
  for (const char* name :
       {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
        "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}) {
    if (const char* value = std::getenv(name)) {
      args.push_back(std::string(name) + "=" + value);
    }
  }
  return args;
}

}  // namespace qdi::engine
