// tern-bench: the load generator (being written).
#include <cstdio>
int main() {
  std::puts("tern-bench: not written yet");
  return 2;
}
