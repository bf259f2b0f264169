#include "cli/commands.hpp"

int main(int argc, char** argv) { return qdi::cli::Run(argc, argv); }
