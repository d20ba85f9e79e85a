// The scenarios; each prints its report and returns the exit code
// (0: ran to the end, 1: cut short by --max-seconds or nothing worked).
#pragma once

#include "tern-bench/runner.h"
#include "tern-bench/stats.h"

namespace tern::bench {

int run_hold(const Env& env);
int run_login(const Env& env);
int run_chat(const Env& env);
int run_presence(const Env& env);
int run_pep(const Env& env);
int run_reconnect(const Env& env);
int run_muc(const Env& env);
// The initial presence of the pep scenario (caps with urn:tern:bench+notify).
std::string pep_initial_presence();
// The features those caps stand for (answered to the server's disco#info).
std::vector<std::string> pep_features();

// Rows every report ends with: connection failures, generator CPU.
void add_common_rows(Report& r, const Runner& runner, const Totals& t, double cpu_seconds,
                     double wall_seconds);

}  // namespace tern::bench
