#include "logging.h"

Q_LOGGING_CATEGORY(lcStore, "siterelay.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcIngest, "siterelay.ingest", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEngine, "siterelay.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcExport, "siterelay.export", QtInfoMsg)
Q_LOGGING_CATEGORY(lcApp, "siterelay.app", QtInfoMsg)
