#include "cli/options.hpp"

#include <cstdlib>

namespace qdi::cli {

namespace {

// "NAME=VALUE", or "NAME" alone for the value of the environment variable,
// as docker build --build-arg reads it.
Status AddBuildArg(const std::string& text, dockerfile::Variables* args) {
  size_t equals = text.find('=');
  std::string name = text.substr(0, equals);
  if (name.empty()) {
    return Error{"--build-arg '" + text + "' has no name; write NAME=VALUE",
                 true};
  }
  if (equals != std::string::npos) {
    (*args)[name] = text.substr(equals + 1);
  } else if (const char* value = std::getenv(name.c_str())) {
    (*args)[name] = value;
  }
  return Ok{};
}

Status AddImageBuildArg(const std::string& text, graph::Settings* settings) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Error{"--image-build-arg '" + text +
                     "' names no image; write IMAGE:NAME=VALUE",
                 true};
  }
  return AddBuildArg(text.substr(colon + 1),
                     &settings->per_image[text.substr(0, colon)].build_args);
}

// The user goes into a RUN line, so only names useradd accepts are taken.
Expected<std::string> CheckUser(const std::string& text) {
  size_t colon = text.find(':');
  bool valid =
      colon != std::string::npos && colon > 0 && colon + 1 < text.size() &&
      text.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
      text.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
          "0123456789._-") == colon &&
      text[0] != '-';
  if (!valid) {
    return Error{"user '" + text +
                     "' is not NAME:UID; give a user name of letters, "
                     "digits, '.', '_' and '-' and a numeric uid",
                 true};
  }
  return text;
}

Status AddUsers(const SharedOptions& options, graph::Settings* settings) {
  if (!options.user.empty()) {
    Expected<std::string> user = CheckUser(options.user);
    if (!user) return user.error();
    settings->top.user = *user;
  }
  for (const auto& [name, text] : options.image_users) {
    Expected<std::string> user = CheckUser(text);
    if (!user) return user.error();
    settings->per_image[name].user = *user;
  }
  return Ok{};
}

}  // namespace

void AddSharedOptions(CLI::App* command, SharedOptions* options) {
  command->add_option("--search-dir", options->search_dirs,
                      "Folder of local base Dockerfiles (repeatable; "
                      "default: the Dockerfile's folder)");
  command->add_option("--prefix", options->prefixes,
                      "Image name prefix of local bases (repeatable; "
                      "default: qemu/ and qemu:)");
  command->add_option("--build-arg", options->build_args,
                      "NAME=VALUE for every image (repeatable)");
  command->add_option("--extra-file", options->extra_files,
                      "File staged in the build context of the images "
                      "named on the command line (repeatable)");
  command->add_option("--context", options->context,
                      "A real context folder for the images named on the "
                      "command line, instead of a staged one");
  command->add_option("--image-extra-file", options->image_extra_files,
                      "NAME PATH: an extra file of the local image NAME");
  command->add_option("--image-context", options->image_contexts,
                      "NAME DIR: the context folder of the local image NAME");
  command->add_option("--image-build-arg", options->image_build_args,
                      "NAME:KEY=VALUE: a build argument of image NAME only");
  command->add_option("--base-identity", options->base_identities,
                      "REF=FILE: pin the external base REF to the identity "
                      "that FILE holds (written by identify)");
  command->add_option("--include-executable", options->executables,
                      "An executable staged at usr/bin/ with the shared "
                      "libraries it loads, for the images named on the "
                      "command line (repeatable)");
  command->add_option("--image-executable", options->image_executables,
                      "NAME PATH: an executable of the local image NAME");
  command->add_option("--add-user", options->user,
                      "NAME:UID: add this user at the end of the images "
                      "named on the command line");
  command->add_option("--image-add-user", options->image_users,
                      "IMAGE NAME:UID: add this user to the image IMAGE");
  command->add_flag("--debug-hash", options->debug_hash,
                    "Print every field that is hashed to standard error");
}

void OneValuePerOccurrence(CLI::App* app) {
  for (CLI::App* command : app->get_subcommands({})) {
    for (CLI::Option* option : command->get_options()) {
      if (option->get_name().rfind("--", 0) == 0) {
        option->allow_extra_args(false);
      }
    }
  }
}

Expected<graph::Settings> MakeSettings(const SharedOptions& options) {
  graph::Settings settings;
  settings.search_dirs = options.search_dirs;
  if (!options.prefixes.empty()) settings.prefixes = options.prefixes;
  for (const std::string& arg : options.build_args) {
    if (Status status = AddBuildArg(arg, &settings.build_args); !status) {
      return status.error();
    }
  }
  settings.top.extra_files = options.extra_files;
  if (!options.context.empty()) settings.top.context = options.context;
  for (const auto& [name, path] : options.image_extra_files) {
    settings.per_image[name].extra_files.push_back(path);
  }
  for (const auto& [name, dir] : options.image_contexts) {
    settings.per_image[name].context = dir;
  }
  for (const std::string& arg : options.image_build_args) {
    if (Status status = AddImageBuildArg(arg, &settings); !status) {
      return status.error();
    }
  }
  for (const std::string& pin : options.base_identities) {
    size_t equals = pin.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error{"--base-identity '" + pin + "' is not REF=FILE", true};
    }
    settings.base_identities[pin.substr(0, equals)] = pin.substr(equals + 1);
  }
  settings.top.executables = options.executables;
  for (const auto& [name, path] : options.image_executables) {
    settings.per_image[name].executables.push_back(path);
  }
  if (Status status = AddUsers(options, &settings); !status) {
    return status.error();
  }
  return settings;
}

}  // namespace qdi::cli
