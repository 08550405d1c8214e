// An atomicity violation: two customers empty one account a unit at a time,
// each checking the balance in one critical section and withdrawing in
// another. When the other customer withdraws in between, the last unit is
// taken twice and the account is overdrawn. The fixed twin (-DFIXED) checks
// and withdraws in one critical section.
// usage: withdraw [UNITS]   (the starting balance, default 100)
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

std::mutex account_lock;
int balance;

#ifndef FIXED
bool covers(int amount) {
  std::lock_guard<std::mutex> hold(account_lock);
  return balance >= amount;
}

void take(int amount) {
  std::lock_guard<std::mutex> hold(account_lock);
  balance -= amount;
}
#endif

// Withdraws one unit while the account has one; returns false when it has none.
bool withdraw_one() {
#ifdef FIXED
  std::lock_guard<std::mutex> hold(account_lock);
  if (balance < 1) return false;
  balance -= 1;
  return true;
#else
  if (!covers(1)) return false;
  take(1);
  return true;
#endif
}

void customer() {
  while (withdraw_one()) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  balance = argc > 1 ? atoi(argv[1]) : 100;
  std::thread first(customer), second(customer);
  first.join();
  second.join();
  if (balance != 0) {
    fprintf(stderr, "withdraw: the account is overdrawn: balance %d\n", balance);
    return 1;
  }
  printf("withdraw: the account is empty\n");
  return 0;
}
