#include "graph/reference.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace qdi::graph {
namespace {

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// LocalImageName's answer as one string: "not local", "local: NAME" or
// "error: MESSAGE".
std::string DescribeLocal(const std::string& image,
                          const std::vector<std::string>& prefixes) {
  std::optional<Expected<std::string>> local = LocalImageName(image, prefixes);
  if (!local) return "not local";
  if (!*local) return "error: " + local->error().message;
  return "local: " + local->value();
}

struct ReferenceCase {
  const char* name;
  std::string image;
  bool valid;  // IsValidReference
  std::string local;
  std::vector<std::string> prefixes = {"qemu/", "qemu:"};
};

void PrintTo(const ReferenceCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.image);
}

std::string CaseName(const testing::TestParamInfo<ReferenceCase>& info) {
  return info.param.name;
}

class ReferenceTest : public testing::TestWithParam<ReferenceCase> {};

TEST_P(ReferenceTest, Classifies) {
  const ReferenceCase& c = GetParam();
  EXPECT_EQ(IsValidReference(c.image), c.valid);
  EXPECT_EQ(DescribeLocal(c.image, c.prefixes), c.local);
}

const char* const kInvalid = "error: not a valid image reference";

// clang-format off
INSTANTIATE_TEST_SUITE_P(Local, ReferenceTest, testing::Values(
    ReferenceCase{"SlashPrefix", "qemu/debian10", true, "local: debian10"},
    ReferenceCase{"ColonPrefix", "qemu:debian8-mxe", true,
                  "local: debian8-mxe"},
    ReferenceCase{"LatestTag", "qemu/debian10:latest", true,
                  "local: debian10"},
    ReferenceCase{"Separators", "qemu/a.b_c__d--e", true,
                  "local: a.b_c__d--e"},
    ReferenceCase{"OtherTag", "qemu/debian10:v1", true,
                  "error: a local image has only the tag 'latest'"},
    ReferenceCase{"Digest", "qemu/debian10@" + kDigest, true,
                  "error: a local image cannot be pinned by digest"},
    ReferenceCase{"TagAndDigest", "qemu/debian10:latest@" + kDigest, true,
                  "error: a local image cannot be pinned by digest"},
    ReferenceCase{"ColonPrefixDigest", "qemu:debian10@" + kDigest, true,
                  "error: a local image cannot be pinned by digest"},
    ReferenceCase{"SubFolder", "qemu/a/b", true,
                  "error: 'a/b' is not a Dockerfile name of the folder"},
    ReferenceCase{"DotDot", "qemu/../x", false, kInvalid},
    ReferenceCase{"EmptyAfterSlash", "qemu/", false, kInvalid},
    ReferenceCase{"EmptyAfterColon", "qemu:", false, kInvalid},
    ReferenceCase{"EmptyTag", "qemu/debian10:", false, kInvalid},
    ReferenceCase{"UpperCase", "qemu/UPPER", false, kInvalid},
    ReferenceCase{"LeadingSeparator", "qemu/-x", false, kInvalid},
    ReferenceCase{"ColonPrefixWithTag", "qemu:debian8:latest", false,
                  kInvalid},
    ReferenceCase{"OtherPrefix", "local/x", true, "local: x", {"local/"}},
    ReferenceCase{"DefaultPrefixNotListed", "qemu/x", true, "not local",
                  {"local/"}},
    ReferenceCase{"EmptyPrefixIgnored", "debian", true, "not local", {""}}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(External, ReferenceTest, testing::Values(
    ReferenceCase{"DockerHubOfficial", "debian", true, "not local"},
    ReferenceCase{"PrefixWithoutSeparator", "qemu", true, "not local"},
    ReferenceCase{"PrefixInLongerName", "qemux/debian10", true, "not local"},
    ReferenceCase{"FullName", "docker.io/library/debian:buster-slim", true,
                  "not local"},
    ReferenceCase{"RegistryWithPort", "registry:5000/a/b:tag", true,
                  "not local"},
    ReferenceCase{"LocalhostRegistry", "localhost:5000/qemu/x", true,
                  "not local"},
    ReferenceCase{"UpperCaseHost", "Registry.Example.com/a", true,
                  "not local"},
    ReferenceCase{"ExternalDigest", "debian@" + kDigest, true, "not local"},
    ReferenceCase{"TagAndDigest", "debian:12@" + kDigest, true,
                  "not local"},
    ReferenceCase{"ShortDigest", "debian@sha256:abc", false, "not local"},
    ReferenceCase{"UpperCasePath", "debian/Foo", false, "not local"},
    ReferenceCase{"TagTooLong", "debian:" + std::string(129, 'a'), false,
                  "not local"},
    ReferenceCase{"LongestTag", "debian:" + std::string(128, 'a'), true,
                  "not local"},
    ReferenceCase{"Empty", "", false, "not local"}),
    CaseName);
// clang-format on

struct NameCase {
  const char* name;
  std::string text;
  bool valid;
};

void PrintTo(const NameCase& c, std::ostream* os) {
  *os << c.name << " " << testing::PrintToString(c.text);
}

std::string NameCaseName(const testing::TestParamInfo<NameCase>& info) {
  return info.param.name;
}

class LocalNameTest : public testing::TestWithParam<NameCase> {};

TEST_P(LocalNameTest, Validates) {
  EXPECT_EQ(IsValidLocalName(GetParam().text), GetParam().valid);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cases, LocalNameTest, testing::Values(
    NameCase{"Plain", "debian10", true},
    NameCase{"Dash", "debian8-mxe", true},
    NameCase{"DashRun", "a--b", true},
    NameCase{"DoubleUnderscore", "a__b", true},
    NameCase{"Dot", "a.b", true},
    NameCase{"Empty", "", false},
    NameCase{"UpperCase", "Debian", false},
    NameCase{"Slash", "a/b", false},
    NameCase{"DotDot", "..", false},
    NameCase{"DoubleDot", "a..b", false},
    NameCase{"TripleUnderscore", "a___b", false},
    NameCase{"LeadingDot", ".a", false},
    NameCase{"TrailingDash", "a-", false},
    NameCase{"Tag", "a:latest", false}),
    NameCaseName);
// clang-format on

}  // namespace
}  // namespace qdi::graph
