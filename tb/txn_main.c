/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-txn: the transaction-level check of any described DUT (txn.h), built against that DUT's
 * Verilated model and generated shim (tb/build-dut.sh). */
#include "txn.h"

int main(int argc, char **argv) { return txn_main(argc, argv, (const char *)0); }
