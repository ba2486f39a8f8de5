#pragma once
// `pulse bench`: runs the figures (all, or --only some) and prints them.
#include "adapters/cmdline/args.h"

namespace pulse::bench {

int run(const cmdline::Args& args);

}  // namespace pulse::bench
