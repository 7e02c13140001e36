#pragma once

#include "expected.h"

#include <QSqlDatabase>
#include <QString>

namespace SiteRelay {

/// One row of the append-only audit trail: who changed what, when, from which state to which.
struct AuditEntry
{
    QString at;     ///< UTC ISO 8601 with milliseconds
    QString actor;  ///< "device:3", "coordinator:2", "engine", "cli", ...
    QString entity; ///< "submission", "device", "alert"
    QString entityId;
    QString action;   ///< "received", "claimed", "processed", "revoked", ...
    QString oldState; ///< null when there was none
    QString newState;
    QString detail; ///< optional, never patient data beyond ids
};

/**
 * Writes audit rows. Called by writer jobs only, inside the transaction that makes the change it
 * records, so the change and its audit row commit together or not at all.
 */
class AuditLog
{
public:
    static Expected<Done> append(QSqlDatabase &db, const AuditEntry &entry);
};

} // namespace SiteRelay
