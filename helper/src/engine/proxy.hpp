#pragma once

// Proxy settings reach the build as Docker's predefined build arguments
// (HTTP_PROXY, http_proxy, ... ALL_PROXY), as QEMU's docker.py passed
// them: they tell a build how to reach the network, not what the image is
// made of, so no checksum covers them and a Dockerfile need not declare
// them.

#include <string>
#include <vector>

namespace qdi::engine {

// "NAME=VALUE" for each predefined proxy argument set in our environment.
std::vector<std::string> ProxyBuildArgs();

}  // namespace qdi::engine
