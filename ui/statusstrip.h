#pragma once

#include "dashboardreader.h"

#include <QWidget>

class QLabel;

namespace SiteRelay {

/**
 * The line of site figures under the task list: where SiteRelay listens and whether TLS is on,
 * devices seen in the last 5 minutes, submissions in the last minute, workers busy of max, the
 * database size and unacknowledged safety alerts (highlighted while there are any). GUI thread.
 */
class StatusStrip final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusStrip)
public:
    explicit StatusStrip(QWidget *parent = nullptr);

    void setListening(const QStringList &urls, bool tls);
    void setSummary(const DashboardSummary &summary);
    /// @p enabled false: the processing engine is off.
    void setWorkers(int busy, int max, bool enabled);
    /// Shows that the figures could not be read (the last good ones stay).
    void setReadError(const QString &message);

    static QString formatBytes(qint64 bytes);

private:
    QLabel *addField(const QString &objectName, const QString &toolTip);

    QLabel *m_listen = nullptr;
    QLabel *m_tls = nullptr;
    QLabel *m_devices = nullptr;
    QLabel *m_rate = nullptr;
    QLabel *m_workers = nullptr;
    QLabel *m_database = nullptr;
    QLabel *m_alerts = nullptr;
    QLabel *m_error = nullptr;
};

} // namespace SiteRelay
