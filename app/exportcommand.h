#pragma once

#include "commandline.h"

#include <QTextStream>

namespace SiteRelay {

/**
 * `siterelay export`: creates the next export batch (or, with --batch, takes a recorded one) and
 * writes its files; progress goes to @p err, the result ("batch: ID", "sequence: N",
 * "submissions: N", "folder: DIR") to @p out. Works on the data folder's database directly, also
 * while a server runs on it (SQLite WAL). Returns the process exit code: 0 done, also when there
 * is nothing to export (said on @p err, nothing on @p out); 2 bad input (settings, unknown batch);
 * 1 anything else.
 */
int runExportCommand(const CommandLine &commandLine, QTextStream &out, QTextStream &err);

} // namespace SiteRelay
