#pragma once

#include "commandline.h"

#include <QTextStream>

namespace SiteRelay {

/// `siterelay device add|list|revoke`: works on the data folder's database directly, also while a
/// server is running on it (SQLite WAL; the server checks tokens against the database on every
/// request, so a revoke takes effect at once). Returns the process exit code.
int runDeviceCommand(const CommandLine &commandLine, QTextStream &out, QTextStream &err);

} // namespace SiteRelay
