/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes of the library (mpq.h). */
#include "mpq.h"

const char *mpq_strerror(int status)
{
    switch (status) {
    case MPQ_OK: return "ok";
    case MPQ_EPARAM: return "impossible or out-of-range parameter";
    case MPQ_ENOMEM: return "out of memory";
    case MPQ_EIO: return "read or write failure";
    case MPQ_EFORMAT: return "malformed input";
    case MPQ_ETRUNC: return "input ends early (truncated)";
    case MPQ_ECORRUPT: return "corrupted data (checksum or compressed stream)";
    case MPQ_EVERSION: return "unsupported format version";
    case MPQ_ECONFIG: return "made for another RTL configuration";
    default: return "unknown status";
    }
}
