#pragma once

#include "commandline.h"

#include <QTextStream>

namespace SiteRelay {

/**
 * `siterelay export`: creates the next export batch (or, with --batch, takes a recorded one),
 * writes its files and, with --upload, uploads it (resuming an interrupted upload without sending
 * confirmed parts again). Runs an ExportJob and waits for it in the main thread's event loop;
 * progress goes to @p err, the result ("batch: ID", "sequence: N", "submissions: N",
 * "folder: DIR", with --upload "upload: confirmed, P parts, R records") to @p out. Works on the data
 * folder's database directly, also while a server runs on it (SQLite WAL). Returns the process exit
 * code: 0 done, also when there is nothing to export (said on @p err, nothing on @p out); 2 bad
 * input (settings, unknown batch, upload not configured); 1 anything else, including an upload the
 * platform did not confirm (its errors in full on @p err). A QCoreApplication must exist.
 */
int runExportCommand(const CommandLine &commandLine, QTextStream &out, QTextStream &err);

} // namespace SiteRelay
